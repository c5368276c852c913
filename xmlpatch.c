/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xmlpatch.c: streaming splice of element text into <domain>/<devices>.
 *
 * The document is read in fixed chunks, checked as it goes by a small
 * tokenizer (a state machine in the manner of yxml: one state per place in
 * the grammar, no allocation) and written out unchanged from the same buffer,
 * except for the inserted text.  Memory use does not depend on the document.
 *
 * Three passes touch each chunk, all cheap: UTF-8/control-character
 * validation (which also counts newlines, for error positions), the
 * tokenizer (memchr for long runs of text, comments, attribute values), and
 * the write.  Line and column are worked out only when an error is reported.
 */
#include "xmlpatch.h"
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
	CHUNK = 64 * 1024,    /* bytes read at a time */
	KEEP = 512,           /* bytes of the previous chunk kept, so a tag's '<' is still at hand */
	MAX_DEPTH = 256,      /* open elements */
	NAME_MAX_LEN = 256,   /* bytes in one name */
	NAME_BUF = 16 * 1024, /* bytes of all open element names together */
	INDENT_MAX = 128,     /* longer indentation is not used as a model */
	DECL_MAX = 256,       /* bytes of the XML declaration's body */
	STAGE = 4096,         /* buffer for the inserted text */
};

#define NONE ((size_t)-1)

enum state {
	S_TEXT,            /* character data, or whitespace outside the root */
	S_LT,              /* after '<' */
	S_BANG,            /* after "<!" */
	S_KEYWORD,         /* matching the rest of "<!--", "<![CDATA[", "<!DOCTYPE", a BOM */
	S_COMMENT, S_COMMENT_DASH, S_COMMENT_DASH2,
	S_CDATA, S_CDATA_BRACKET, S_CDATA_BRACKET2,
	S_PI_TARGET, S_PI_BODY, S_PI_QUESTION,
	S_START_NAME,      /* element name in a start tag */
	S_TAG_WS,          /* whitespace inside a start tag */
	S_ATTR_NAME, S_ATTR_BEFORE_EQ, S_ATTR_AFTER_EQ, S_ATTR_VALUE, S_TAG_AFTER_VALUE,
	S_EMPTY_SLASH,     /* after '/' of "/>" */
	S_END_NAME, S_END_WS,
	S_REF_START, S_REF_NAME, S_CHARREF, S_CHARREF_DEC, S_CHARREF_HEX_START, S_CHARREF_HEX,
	S_DOCTYPE, S_DT_QUOTED, S_DT_SUBSET, S_DT_LT, S_DT_BANG, S_DT_DECL, S_DT_AFTER_SUBSET,
};

/* What an unexpected end of the document was inside of, by state. */
static const char *const construct_name[] = {
	[S_LT] = "a tag", [S_BANG] = "a tag",
	[S_COMMENT] = "a comment", [S_COMMENT_DASH] = "a comment", [S_COMMENT_DASH2] = "a comment",
	[S_CDATA] = "a CDATA section", [S_CDATA_BRACKET] = "a CDATA section",
	[S_CDATA_BRACKET2] = "a CDATA section",
	[S_PI_TARGET] = "a processing instruction", [S_PI_BODY] = "a processing instruction",
	[S_PI_QUESTION] = "a processing instruction",
	[S_START_NAME] = "a tag", [S_TAG_WS] = "a tag", [S_ATTR_NAME] = "a tag",
	[S_ATTR_BEFORE_EQ] = "a tag", [S_ATTR_AFTER_EQ] = "a tag",
	[S_ATTR_VALUE] = "an attribute value", [S_TAG_AFTER_VALUE] = "a tag",
	[S_EMPTY_SLASH] = "a tag", [S_END_NAME] = "a tag", [S_END_WS] = "a tag",
	[S_REF_START] = "a reference", [S_REF_NAME] = "a reference", [S_CHARREF] = "a reference",
	[S_CHARREF_DEC] = "a reference", [S_CHARREF_HEX_START] = "a reference",
	[S_CHARREF_HEX] = "a reference",
	[S_DOCTYPE] = "the DOCTYPE", [S_DT_QUOTED] = "the DOCTYPE", [S_DT_SUBSET] = "the DOCTYPE",
	[S_DT_LT] = "the DOCTYPE", [S_DT_BANG] = "the DOCTYPE", [S_DT_DECL] = "the DOCTYPE",
	[S_DT_AFTER_SUBSET] = "the DOCTYPE",
};

enum { C_WS = 1, C_NAME_START = 2, C_NAME = 4, C_DIGIT = 8, C_HEX = 16 };
#define NS (C_NAME_START | C_NAME)
/* Bytes >= 0x80 count as name characters: UTF-8 is checked separately. */
static const unsigned char char_class[256] = {
	['\t'] = C_WS, ['\n'] = C_WS, ['\r'] = C_WS, [' '] = C_WS,
	['-'] = C_NAME, ['.'] = C_NAME, [':'] = NS, ['_'] = NS,
	['0' ... '9'] = C_NAME | C_DIGIT | C_HEX,
	['A' ... 'F'] = NS | C_HEX, ['G' ... 'Z'] = NS,
	['a' ... 'f'] = NS | C_HEX, ['g' ... 'z'] = NS,
	[0x80 ... 0xFF] = NS,
};
#undef NS

static inline bool is_class(unsigned char c, unsigned cls) { return (char_class[c] & cls) != 0; }

/* Whitespace that begins a line, used as the model for new lines. */
struct indent {
	size_t len;
	bool valid;
	char s[2 * INDENT_MAX];
};

struct patcher {
	int in_fd, out_fd;
	const char *const *fragments;
	size_t nfragments;
	struct xmlpatch_result *result;
	struct xmlpatch_error *err;

	/* Input window buf[0, len): pos is the next byte to tokenize, bytes
	 * before out_from have been written, hold is a '<' that must not be
	 * written yet because text may have to go before it (or NONE). */
	unsigned char buf[KEEP + CHUNK];
	size_t len, pos, out_from, hold;
	unsigned long long buf_abs;      /* input offset of buf[0] */

	/* Validation: buf[0, checked) is valid; bad is the first invalid byte or NONE. */
	size_t checked, bad;
	unsigned utf8_need;              /* continuation bytes still expected */
	unsigned char utf8_lo, utf8_hi;  /* range allowed for the next one */
	unsigned long long newlines;     /* '\n' in the input up to buf[checked] */
	unsigned long long line_before;  /* offset after the last '\n' before buf[0] */
	const char *newline;             /* "\n" or "\r\n", from the first newline; NULL before */

	/* Tokenizer. */
	enum state state, ret;           /* ret: where a comment, PI, reference or quote returns */
	unsigned long long tag_abs;      /* offset of the '<' of the current markup */
	unsigned long long ref_abs;      /* offset of the '&' of the current reference */
	unsigned char quote;
	const char *keyword;             /* rest of a keyword being matched */
	const char *keyword_error;
	enum state keyword_next;
	size_t name_len;                 /* bytes of the name being read */
	unsigned long charref;
	char pi_target[3];
	bool in_decl;                    /* the PI is the XML declaration */
	char decl[DECL_MAX];
	size_t decl_len, bom_len;
	bool root_seen, root_done, doctype_seen;

	/* Open elements: names packed in names[], lengths in name_lens[]. */
	char names[NAME_BUF];
	size_t names_used, depth;
	unsigned short name_lens[MAX_DEPTH];

	/* Layout, tracked in the text directly inside the root and the target <devices>. */
	bool line_start;                 /* text since the last newline is all whitespace */
	struct indent ws;                /* that whitespace */
	bool devices_seen;               /* the first <devices> child of <domain> was found */
	bool target_open;                /* reading its start tag */
	bool in_target;                  /* inside it */
	bool inserted;
	bool domain_nl, devices_nl;      /* text directly inside held a newline */
	bool unit_known;
	struct indent root_indent, domain_child, devices_indent, devices_child, unit;

	char stage[STAGE];
	size_t stage_len;
	unsigned long long emitted;
};

/* ---- errors and positions ---- */

static size_t count_newlines(const unsigned char *s, size_t n)
{
	size_t count = 0;
	const unsigned char *end = s + n, *q;
	while (s < end && (q = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		count++;
		s = q + 1;
	}
	return count;
}

/* Index of the last '\n' in s[0, n), or NONE. */
static size_t last_newline(const unsigned char *s, size_t n)
{
	const unsigned char *q = n ? memrchr(s, '\n', n) : NULL;
	return q ? (size_t)(q - s) : NONE;
}

static void locate(const struct patcher *p, unsigned long long at, unsigned long *line,
		   unsigned long *column)
{
	if (at < p->buf_abs)
		at = p->buf_abs;
	size_t idx = (size_t)(at - p->buf_abs);
	if (idx > p->checked)
		idx = p->checked;
	size_t after = count_newlines(p->buf + idx, p->checked - idx);
	size_t nl = last_newline(p->buf, idx);
	unsigned long long line_begin = nl == NONE ? p->line_before : p->buf_abs + nl + 1;
	*line = (unsigned long)(p->newlines - after + 1);
	*column = (unsigned long)(p->buf_abs + idx - line_begin + 1);
}

__attribute__((format(printf, 3, 4)))
static int fail_at(struct patcher *p, unsigned long long at, const char *fmt, ...)
{
	struct xmlpatch_error *e = p->err;
	locate(p, at, &e->line, &e->column);
	int n = format(e->message, sizeof e->message, "line %lu:%lu: ", e->line, e->column);
	if (n < 0 || (size_t)n >= sizeof e->message)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	if (vformat(e->message + n, sizeof e->message - (size_t)n, fmt, ap) < 0)
		e->message[n] = '\0';
	va_end(ap);
	/* names and values quoted from the document may hold control bytes */
	for (char *c = e->message + n; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return -1;
}

/* An error at the byte being tokenized. */
#define FAIL_HERE(p, ...) fail_at((p), (p)->buf_abs + (p)->pos, __VA_ARGS__)

static int fail_io(struct patcher *p, const char *what)
{
	p->err->line = p->err->column = 0;
	format(p->err->message, sizeof p->err->message, "%s: %s", what, strerror(errno));
	return -1;
}

/* ---- output ---- */

static int write_all(struct patcher *p, const void *data, size_t n)
{
	const char *s = data;
	while (n > 0) {
		ssize_t w = write(p->out_fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return fail_io(p, "write");
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the input up to buf[upto]. */
static int pass_through(struct patcher *p, size_t upto)
{
	if (upto <= p->out_from)
		return 0;
	int r = write_all(p, p->buf + p->out_from, upto - p->out_from);
	p->out_from = upto;
	return r;
}

static int emit(struct patcher *p, const char *s, size_t n)
{
	p->emitted += n;
	while (n > 0) {
		if (p->stage_len == STAGE) {
			if (write_all(p, p->stage, STAGE) < 0)
				return -1;
			p->stage_len = 0;
		}
		size_t room = STAGE - p->stage_len, take = n < room ? n : room;
		memcpy(p->stage + p->stage_len, s, take);
		p->stage_len += take;
		s += take;
		n -= take;
	}
	return 0;
}

static int emit_str(struct patcher *p, const char *s) { return emit(p, s, strlen(s)); }

static int emit_flush(struct patcher *p)
{
	int r = write_all(p, p->stage, p->stage_len);
	p->stage_len = 0;
	return r;
}

/* ---- layout of the inserted text ---- */

static void indent_set(struct indent *to, const char *s, size_t n)
{
	if (n > sizeof to->s)
		n = sizeof to->s;
	memcpy(to->s, s, n);
	to->len = n;
	to->valid = true;
}

static void indent_join(struct indent *to, const struct indent *a, const struct indent *b)
{
	struct indent joined;
	indent_set(&joined, a->s, a->len);
	size_t room = sizeof joined.s - joined.len, take = b->len < room ? b->len : room;
	memcpy(joined.s + joined.len, b->s, take);
	joined.len += take;
	*to = joined;
}

/* child minus base when base is a proper prefix of child, else NULL. */
static bool indent_suffix(const struct indent *child, const struct indent *base, struct indent *out)
{
	if (child->len <= base->len || memcmp(child->s, base->s, base->len) != 0)
		return false;
	indent_set(out, child->s + base->len, child->len - base->len);
	return true;
}

/* Whether the text before the '<' being read begins a line, and its whitespace. */
static void take_indent(struct indent *to, const struct patcher *p)
{
	indent_set(to, p->ws.s, p->ws.len);
	to->valid = p->line_start;
}

/*
 * How the lines of the inserted text are placed.  Multi-line: the first line
 * gets lead (or newline + child when lead_newline), every other line newline +
 * child + unit per level, and after the last, newline + trail when
 * trail_newline.  Otherwise the lines are joined without whitespace.
 */
struct layout {
	bool multiline, lead_newline, trail_newline;
	struct indent lead, child, unit, trail;
};

/*
 * Layout for lines added at the end of a container element's content, right
 * before its end tag.  closing: whitespace before the end tag if it begins a
 * line; open: indentation of the container's start tag; last_child: of its
 * last child element that begins a line.
 */
static struct layout container_layout(const struct patcher *p, bool multiline,
				      const struct indent *closing, const struct indent *open,
				      const struct indent *last_child)
{
	struct layout lay = { .multiline = multiline };
	struct indent base = { 0 };
	if (closing->valid)
		base = *closing;
	else if (open->valid)
		base = *open;
	if (!last_child->valid || !indent_suffix(last_child, &base, &lay.unit))
		lay.unit = p->unit;
	if (last_child->valid)
		lay.child = *last_child;
	else
		indent_join(&lay.child, &base, &lay.unit);
	if (closing->valid) {
		struct indent pad = { 0 };
		if (indent_suffix(&lay.child, &base, &pad))
			lay.lead = pad;
		lay.trail_newline = true;
		lay.trail = *closing;
	} else {
		lay.lead_newline = true;
	}
	return lay;
}

static int emit_line(struct patcher *p, const struct layout *lay, bool first, size_t level,
		     size_t spaces, const char *text, size_t n)
{
	if (lay->multiline) {
		if (first && !lay->lead_newline) {
			if (emit(p, lay->lead.s, lay->lead.len) < 0)
				return -1;
		} else if (emit_str(p, p->newline) < 0 || emit(p, lay->child.s, lay->child.len) < 0) {
			return -1;
		}
		for (size_t i = 0; i < level; i++)
			if (emit(p, lay->unit.s, lay->unit.len) < 0)
				return -1;
		for (size_t i = 0; i < spaces; i++)
			if (emit(p, " ", 1) < 0)
				return -1;
	}
	return emit(p, text, n);
}

/* Emits the fragments, each line re-indented; wrapped in <devices> when wrap. */
static int emit_fragments(struct patcher *p, const struct layout *lay, bool wrap)
{
	bool first = true;
	size_t shift = wrap ? 1 : 0;
	if (wrap) {
		if (emit_line(p, lay, true, 0, 0, "<devices>", 9) < 0)
			return -1;
		first = false;
	}
	for (size_t f = 0; f < p->nfragments; f++) {
		const char *s = p->fragments[f];
		while (*s) {
			const char *eol = strchr(s, '\n');
			size_t n = eol ? (size_t)(eol - s) : strlen(s), lead = 0;
			while (lead < n && s[lead] == ' ')
				lead++;
			if (lead < n) {
				if (emit_line(p, lay, first, shift + lead / 2, lead % 2, s + lead, n - lead) < 0)
					return -1;
				first = false;
			}
			s += eol ? n + 1 : n;
		}
	}
	if (wrap && emit_line(p, lay, false, 0, 0, "</devices>", 10) < 0)
		return -1;
	if (lay->multiline && lay->trail_newline &&
	    (emit_str(p, p->newline) < 0 || emit(p, lay->trail.s, lay->trail.len) < 0))
		return -1;
	return 0;
}

static void set_result(struct patcher *p, enum xmlpatch_mode mode, unsigned long long offset,
		       unsigned long long length)
{
	p->inserted = true;
	if (p->result) {
		p->result->mode = mode;
		p->result->insert_offset = offset;
		p->result->insert_length = length;
	}
}

/* At the '<' of </devices> (INSERTED) or of </domain> (CREATED), buf[p->hold]. */
static int insert_before_end_tag(struct patcher *p)
{
	size_t at = p->hold;
	bool created = !p->in_target;
	struct indent closing;
	take_indent(&closing, p);
	struct layout lay = created
		? container_layout(p, p->domain_nl, &closing, &p->root_indent, &p->domain_child)
		: container_layout(p, p->devices_nl, &closing, &p->devices_indent, &p->devices_child);
	p->hold = NONE;
	if (pass_through(p, at) < 0)
		return -1;
	p->emitted = 0;
	if (p->nfragments > 0 && (emit_fragments(p, &lay, created) < 0 || emit_flush(p) < 0))
		return -1;
	set_result(p, created ? XMLPATCH_CREATED : XMLPATCH_INSERTED, p->buf_abs + at, p->emitted);
	return 0;
}

/* At the '/' of <devices/>: writes ">...</devices" for it; the '>' follows from the input. */
static int expand_devices(struct patcher *p)
{
	size_t at = p->pos;
	if (p->nfragments == 0) {
		set_result(p, XMLPATCH_EXPANDED, p->buf_abs + at, 2);
		return 0;
	}
	struct layout lay = { .multiline = p->devices_indent.valid && p->newline,
			      .lead_newline = true, .trail_newline = true };
	indent_join(&lay.child, &p->devices_indent, &p->unit);
	lay.unit = p->unit;
	lay.trail = p->devices_indent;
	if (pass_through(p, at) < 0)
		return -1;
	p->out_from = at + 1;
	p->emitted = 0;
	if (emit(p, ">", 1) < 0 || emit_fragments(p, &lay, false) < 0 ||
	    emit_str(p, "</devices") < 0 || emit_flush(p) < 0)
		return -1;
	set_result(p, XMLPATCH_EXPANDED, p->buf_abs + at, p->emitted + 1);
	return 0;
}

/* ---- byte searches: SSE2 where there is SSE2, eight bytes at a time elsewhere ---- */

#ifndef __SSE2__
#define BYTES_OF(b) (0x0101010101010101ull * (unsigned char)(b))

/* Nonzero when some byte of w is zero (false positives only after a true one). */
static inline uint64_t zero_byte(uint64_t w)
{
	return (w - BYTES_OF(1)) & ~w & BYTES_OF(0x80);
}
#endif

/* Length of the prefix of s[0, n) made of bytes 0x20 to 0x7F. */
static size_t printable_ascii_span(const unsigned char *s, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	/* as signed bytes, both < 0x20 and >= 0x80 are less than 0x20 */
	const __m128i space = _mm_set1_epi8(0x20);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, space));
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#else
	for (uint64_t w; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (((w - BYTES_OF(0x20)) | w) & BYTES_OF(0x80))
			break;
	}
#endif
	while (i < n && s[i] >= 0x20 && s[i] < 0x80)
		i++;
	return i;
}

/* Index of the first a, b or c in s[0, n), or n.  Inlined: the hot loops call it on short spans. */
static inline __attribute__((always_inline)) size_t find_any3(const unsigned char *s, size_t n, unsigned char a,
							      unsigned char b, unsigned char c)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b),
		      vc = _mm_set1_epi8((char)c);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
					   _mm_cmpeq_epi8(v, vc));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#else
	for (uint64_t w; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (zero_byte(w ^ BYTES_OF(a)) | zero_byte(w ^ BYTES_OF(b)) | zero_byte(w ^ BYTES_OF(c)))
			break;
	}
#endif
	while (i < n && s[i] != a && s[i] != b && s[i] != c)
		i++;
	return i;
}

static size_t find_either(const unsigned char *s, size_t n, unsigned char a, unsigned char b)
{
	return find_any3(s, n, a, b, b);
}

/* ---- UTF-8 validation, newline counting ---- */

static void note_newline(struct patcher *p, size_t i)
{
	p->newlines++;
	if (!p->newline)
		p->newline = i > 0 && p->buf[i - 1] == '\r' ? "\r\n" : "\n";
}

/* Sets the lead byte's constraints, or returns false if c cannot start a character. */
static bool utf8_lead(struct patcher *p, unsigned char c)
{
	p->utf8_lo = 0x80;
	p->utf8_hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		p->utf8_need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		p->utf8_need = 2;
		if (c == 0xE0)
			p->utf8_lo = 0xA0;  /* overlong */
		else if (c == 0xED)
			p->utf8_hi = 0x9F;  /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		p->utf8_need = 3;
		if (c == 0xF0)
			p->utf8_lo = 0x90;
		else if (c == 0xF4)
			p->utf8_hi = 0x8F;  /* beyond U+10FFFF */
	} else {
		return false;
	}
	return true;
}

/* Validates buf[checked, len); on failure sets bad and stops there. */
static void validate(struct patcher *p)
{
	size_t i = p->checked, end = p->len;
	while (i < end) {
		if (p->utf8_need == 0) {
			i += printable_ascii_span(p->buf + i, end - i);
			if (i >= end)
				break;
		}
		unsigned char c = p->buf[i];
		if (p->utf8_need > 0) {
			if (c < p->utf8_lo || c > p->utf8_hi)
				break;
			p->utf8_need--;
			p->utf8_lo = 0x80;
			p->utf8_hi = 0xBF;
		} else if (c >= 0x80) {
			if (!utf8_lead(p, c))
				break;
		} else if (c == '\n') {
			note_newline(p, i);
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			break;
		}
		i++;
	}
	p->checked = i;
	p->bad = i < end ? i : NONE;
}

static int fail_invalid_byte(struct patcher *p)
{
	unsigned long long at = p->buf_abs + p->bad;
	unsigned char c = p->buf[p->bad];
	if ((at == 0 && (c == 0xFE || c == 0xFF)) || (at < 4 && c == 0))
		return fail_at(p, at, "document is not UTF-8 (UTF-16 or UTF-32?)");
	if (c < 0x20)
		return fail_at(p, at, "control character 0x%02X is not allowed in XML", c);
	return fail_at(p, at, "invalid UTF-8 (byte 0x%02X)", c);
}

/* ---- input ---- */

/* Writes what is done, keeps the last KEEP bytes, reads the next chunk.
 * Returns bytes read, 0 at the end, -1 on error. */
static ssize_t refill(struct patcher *p)
{
	if (pass_through(p, p->hold != NONE ? p->hold : p->len) < 0)
		return -1;
	size_t discard = p->len > KEEP ? p->len - KEEP : 0;
	if (p->hold != NONE && p->hold < discard)
		discard = p->hold;
	if (discard > 0) {
		size_t nl = last_newline(p->buf, discard);
		if (nl != NONE)
			p->line_before = p->buf_abs + nl + 1;
		memmove(p->buf, p->buf + discard, p->len - discard);
		p->buf_abs += discard;
		p->len -= discard;
		p->pos -= discard;
		p->out_from -= discard;
		p->checked -= discard;
		if (p->hold != NONE)
			p->hold -= discard;
	}
	for (;;) {
		ssize_t n = read(p->in_fd, p->buf + p->len, CHUNK);
		if (n >= 0) {
			p->len += (size_t)n;
			return n;
		}
		if (errno != EINTR)
			return fail_io(p, "read");
	}
}

/* ---- tokenizer: helpers ---- */

static void enter_text(struct patcher *p)
{
	p->state = S_TEXT;
	p->line_start = false;
	p->ws.len = 0;
}

/* End of a comment or PI: back to text or to the DOCTYPE's internal subset. */
static void end_markup(struct patcher *p)
{
	if (p->ret == S_TEXT)
		enter_text(p);
	else
		p->state = p->ret;
}

static void start_keyword(struct patcher *p, const char *rest, enum state next, const char *error)
{
	p->state = S_KEYWORD;
	p->keyword = rest;
	p->keyword_next = next;
	p->keyword_error = error;
}

static const char *top_name(const struct patcher *p, size_t *len)
{
	*len = p->name_lens[p->depth - 1];
	return p->names + p->names_used - *len;
}

/* Appends c to the name being read, which is stored after the open elements' names. */
static int name_append(struct patcher *p, unsigned char c)
{
	if (p->name_len == NAME_MAX_LEN)
		return FAIL_HERE(p, "name longer than %d bytes", NAME_MAX_LEN);
	if (p->names_used + p->name_len == NAME_BUF)
		return FAIL_HERE(p, "open element names longer than %d bytes in all", NAME_BUF);
	p->names[p->names_used + p->name_len++] = (char)c;
	return 0;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* ---- tokenizer: text ---- */

/* A '<' at buf[at] in text. */
static void open_markup(struct patcher *p, size_t at)
{
	p->tag_abs = p->buf_abs + at;
	p->state = S_LT;
	p->ret = S_TEXT;
	bool may_close_here = (p->depth == 1 && !p->devices_seen) || (p->depth == 2 && p->in_target);
	p->hold = may_close_here && !p->inserted ? at : NONE;
}

static void open_reference(struct patcher *p, enum state back)
{
	p->ref_abs = p->buf_abs + p->pos;
	p->pos++;
	p->ret = back;
	p->state = S_REF_START;
}

/* Text outside the root: whitespace only (and a BOM at the very start). */
static int text_outside_root(struct patcher *p, size_t limit)
{
	while (p->pos < limit) {
		unsigned char c = p->buf[p->pos];
		if (c == '<') {
			open_markup(p, p->pos++);
			return 0;
		}
		if (c == 0xEF && p->buf_abs + p->pos == 0) {
			p->pos++;
			p->bom_len = 3;
			start_keyword(p, "\xBB\xBF", S_TEXT, "text outside the root element");
			return 0;
		}
		if (c == '\n') {
			p->line_start = true;
			p->ws.len = 0;
		} else if (c == ' ' || c == '\t') {
			if (p->ws.len < INDENT_MAX)
				p->ws.s[p->ws.len++] = (char)c;
			else
				p->line_start = false;
		} else if (c != '\r') {
			return FAIL_HERE(p, "text outside the root element");
		}
		p->pos++;
	}
	return 0;
}

static size_t plain_start_tag(struct patcher *p, size_t lt, size_t limit);

/*
 * A start tag of a child of the target <devices> read by the fast path, its
 * indentation noted as start_element does; false (nothing changed) if not plain.
 */
static bool plain_target_child(struct patcher *p, size_t limit)
{
	size_t lt = p->pos;
	if (!(p->depth == 2 && p->in_target) || lt + 1 >= limit || !is_class(p->buf[lt + 1], C_NAME_START))
		return false;
	size_t next = plain_start_tag(p, lt, limit);
	if (next == 0)
		return false;
	if (p->line_start)
		take_indent(&p->devices_child, p);
	p->pos = next;
	enter_text(p);
	return true;
}

/* Text directly inside <domain> or the target <devices>: follows indentation. */
static int text_tracked(struct patcher *p, size_t limit)
{
	while (p->pos < limit) {
		unsigned char c = p->buf[p->pos];
		if (c == '<') {
			if (!plain_target_child(p, limit))
				open_markup(p, p->pos++);
			return 0;
		}
		if (c == '&') {
			p->line_start = false;
			open_reference(p, S_TEXT);
			return 0;
		}
		if (c == '\n') {
			p->line_start = true;
			p->ws.len = 0;
			if (p->depth == 1)
				p->domain_nl = true;
			else
				p->devices_nl = true;
		} else if (c == ' ' || c == '\t') {
			if (p->ws.len < INDENT_MAX)
				p->ws.s[p->ws.len++] = (char)c;
			else
				p->line_start = false;
		} else if (c != '\r') {
			p->line_start = false;
		}
		p->pos++;
	}
	return 0;
}

/* Any other text: only '<' and '&' matter. */
static int text_fast(struct patcher *p, size_t limit)
{
	size_t n = find_either(p->buf + p->pos, limit - p->pos, '<', '&');
	p->pos += n;
	if (p->pos == limit)
		return 0;
	if (p->buf[p->pos] == '&') {
		open_reference(p, S_TEXT);
	} else {
		open_markup(p, p->pos);
		p->pos++;
	}
	return 0;
}

static int on_text(struct patcher *p, size_t limit);

/* ---- tokenizer: markup openings ---- */

static int on_lt(struct patcher *p, unsigned char c)
{
	size_t hold = p->hold;
	p->hold = NONE;
	p->pos++;
	if (c == '/') {
		if (p->depth == 0)
			return fail_at(p, p->tag_abs, "end tag outside the root element");
		p->state = S_END_NAME;
		p->name_len = 0;
		if (hold != NONE) {
			p->hold = hold;
			return insert_before_end_tag(p);
		}
	} else if (c == '!') {
		p->state = S_BANG;
	} else if (c == '?') {
		p->state = S_PI_TARGET;
		p->name_len = 0;
	} else if (is_class(c, C_NAME_START)) {
		p->state = S_START_NAME;
		p->name_len = 0;
		return name_append(p, c);
	} else {
		p->pos--;
		return FAIL_HERE(p, "invalid character after '<'");
	}
	return 0;
}

static int on_bang(struct patcher *p, unsigned char c)
{
	if (c == '-') {
		start_keyword(p, "-", S_COMMENT, "invalid comment, expected \"<!--\"");
	} else if (c == '[') {
		if (p->depth == 0)
			return FAIL_HERE(p, "CDATA section outside the root element");
		start_keyword(p, "CDATA[", S_CDATA, "invalid CDATA section, expected \"<![CDATA[\"");
	} else if (c == 'D') {
		if (p->root_seen || p->doctype_seen)
			return FAIL_HERE(p, "DOCTYPE is only allowed once, before the root element");
		start_keyword(p, "OCTYPE", S_DOCTYPE, "invalid DOCTYPE, expected \"<!DOCTYPE\"");
	} else {
		return FAIL_HERE(p, "invalid markup after \"<!\"");
	}
	p->pos++;
	return 0;
}

static int on_keyword(struct patcher *p, unsigned char c)
{
	if (c != (unsigned char)*p->keyword)
		return FAIL_HERE(p, "%s", p->keyword_error);
	p->pos++;
	if (*++p->keyword == '\0') {
		p->state = p->keyword_next;
		if (p->state == S_TEXT)  /* the BOM: what follows still begins the first line */
			p->line_start = true;
	}
	return 0;
}

/* ---- tokenizer: comments, CDATA, processing instructions ---- */

/* Skips to the next byte c; true when found (pos is then past it). */
static bool skip_to(struct patcher *p, size_t limit, unsigned char c)
{
	const unsigned char *q = memchr(p->buf + p->pos, c, limit - p->pos);
	p->pos = q ? (size_t)(q - p->buf) + 1 : limit;
	return q != NULL;
}

static int on_comment(struct patcher *p, size_t limit)
{
	unsigned char c = p->buf[p->pos];
	switch (p->state) {
	case S_COMMENT:
		if (skip_to(p, limit, '-'))
			p->state = S_COMMENT_DASH;
		return 0;
	case S_COMMENT_DASH:
		p->state = c == '-' ? S_COMMENT_DASH2 : S_COMMENT;
		break;
	default:
		if (c != '>')
			return FAIL_HERE(p, "\"--\" is not allowed inside a comment");
		end_markup(p);
		break;
	}
	p->pos++;
	return 0;
}

static int on_cdata(struct patcher *p, size_t limit)
{
	unsigned char c = p->buf[p->pos];
	switch (p->state) {
	case S_CDATA:
		if (skip_to(p, limit, ']'))
			p->state = S_CDATA_BRACKET;
		return 0;
	case S_CDATA_BRACKET:
		p->state = c == ']' ? S_CDATA_BRACKET2 : S_CDATA;
		break;
	default:
		if (c == '>')
			enter_text(p);
		else if (c != ']')
			p->state = S_CDATA;
		break;
	}
	p->pos++;
	return 0;
}

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* The encoding named in the XML declaration, if any, must be UTF-8 ("UTF8" is accepted too). */
static int check_declaration(struct patcher *p)
{
	const char *s = p->decl + 1, *end = p->decl + p->decl_len;
	for (; s + 8 <= end; s++) {
		if (memcmp(s, "encoding", 8) != 0 || !is_class((unsigned char)s[-1], C_WS))
			continue;
		s += 8;
		while (s < end && (is_class((unsigned char)*s, C_WS) || *s == '='))
			s++;
		if (s == end || (*s != '"' && *s != '\''))
			break;
		const char *value = s + 1, *close = memchr(value, *s, (size_t)(end - value));
		if (!close)
			break;
		size_t n = (size_t)(close - value);
		if ((n == 5 && ascii_ieq(value, "utf-8", 5)) || (n == 4 && ascii_ieq(value, "utf8", 4)))
			return 0;
		return fail_at(p, p->tag_abs, "document is not UTF-8 (encoding=\"%.*s\")",
			       (int)(n < 40 ? n : 40), value);
	}
	return 0;
}

static int decl_append(struct patcher *p, const unsigned char *s, size_t n)
{
	if (!p->in_decl)
		return 0;
	if (n > DECL_MAX - p->decl_len)
		return fail_at(p, p->tag_abs, "XML declaration longer than %d bytes", DECL_MAX);
	memcpy(p->decl + p->decl_len, s, n);
	p->decl_len += n;
	return 0;
}

static int end_pi_target(struct patcher *p, unsigned char c)
{
	if (p->name_len == 0)
		return FAIL_HERE(p, "processing instruction without a target");
	p->in_decl = p->name_len == 3 && ascii_ieq(p->pi_target, "xml", 3);
	if (p->in_decl) {
		if (p->tag_abs != p->bom_len || p->ret != S_TEXT)
			return fail_at(p, p->tag_abs, "XML declaration not at the start of the document");
		p->decl[0] = ' ';  /* so "encoding" right after the target is preceded by a space */
		p->decl_len = 1;
	}
	if (c == '?')
		p->state = S_PI_QUESTION;
	else if (is_class(c, C_WS))
		p->state = S_PI_BODY;
	else
		return FAIL_HERE(p, "invalid character in processing instruction target");
	p->pos++;
	return 0;
}

static int on_pi(struct patcher *p, size_t limit)
{
	unsigned char c = p->buf[p->pos];
	switch (p->state) {
	case S_PI_TARGET:
		if (!is_class(c, p->name_len == 0 ? C_NAME_START : C_NAME))
			return end_pi_target(p, c);
		if (p->name_len == NAME_MAX_LEN)
			return FAIL_HERE(p, "name longer than %d bytes", NAME_MAX_LEN);
		if (p->name_len < sizeof p->pi_target)
			p->pi_target[p->name_len] = (char)c;
		p->name_len++;
		break;
	case S_PI_BODY: {
		size_t from = p->pos;
		bool found = skip_to(p, limit, '?');
		if (found)
			p->state = S_PI_QUESTION;
		return decl_append(p, p->buf + from, p->pos - from - (found ? 1 : 0));
	}
	default: /* S_PI_QUESTION */
		if (c == '>') {
			if (p->in_decl && check_declaration(p) < 0)
				return -1;
			p->in_decl = false;
			end_markup(p);
			break;
		}
		/* the '?' seen was part of the body */
		if (decl_append(p, (const unsigned char *)"?", 1) < 0)
			return -1;
		if (c != '?') {
			p->state = S_PI_BODY;
			return 0;
		}
		break;
	}
	p->pos++;
	return 0;
}

/* ---- tokenizer: start and end tags ---- */

/* The name of a start tag is complete: checks it and pushes it. */
static int start_element(struct patcher *p)
{
	const char *name = p->names + p->names_used;
	size_t len = p->name_len;
	int shown = (int)(len < 40 ? len : 40);
	if (p->depth == 0) {
		if (p->root_done)
			return fail_at(p, p->tag_abs, "second root element <%.*s>", shown, name);
		if (!name_is(name, len, "domain"))
			return fail_at(p, p->tag_abs, "root element is <%.*s>, not <domain>", shown, name);
		p->root_seen = true;
		take_indent(&p->root_indent, p);
	} else if (p->depth == 1) {
		struct indent here;
		take_indent(&here, p);
		if (here.valid) {
			take_indent(&p->domain_child, p);
			if (!p->unit_known) {
				p->unit_known = true;
				if (!(p->root_indent.valid && indent_suffix(&here, &p->root_indent, &p->unit)) &&
				    here.len > 0 && here.s[0] == '\t')
					indent_set(&p->unit, "\t", 1);
			}
		}
		if (!p->devices_seen && name_is(name, len, "devices")) {
			p->devices_seen = true;
			p->target_open = true;
			take_indent(&p->devices_indent, p);
		}
	} else if (p->depth == 2 && p->in_target && p->line_start) {
		take_indent(&p->devices_child, p);
	}
	if (p->depth == MAX_DEPTH)
		return fail_at(p, p->tag_abs, "elements nested more than %d deep", MAX_DEPTH);
	p->name_lens[p->depth++] = (unsigned short)len;
	p->names_used += len;
	return 0;
}

static void pop_element(struct patcher *p)
{
	p->names_used -= p->name_lens[--p->depth];
	if (p->depth == 1)
		p->in_target = false;
	if (p->depth == 0)
		p->root_done = true;
}

/* '>' ends a start tag. */
static void end_start_tag(struct patcher *p)
{
	if (p->target_open) {
		p->target_open = false;
		p->in_target = true;
	}
	enter_text(p);
}

/* After an element name or attribute value: '>', "/>" or whitespace. */
static int tag_delimiter(struct patcher *p, unsigned char c, const char *what)
{
	if (c == '>') {
		end_start_tag(p);
	} else if (c == '/') {
		if (p->target_open) {
			p->target_open = false;
			if (expand_devices(p) < 0)
				return -1;
		}
		p->state = S_EMPTY_SLASH;
	} else if (is_class(c, C_WS)) {
		p->state = S_TAG_WS;
	} else {
		return FAIL_HERE(p, "%s", what);
	}
	p->pos++;
	return 0;
}

/* Skips at most max bytes of class cls; returns how many. */
static size_t span(struct patcher *p, size_t limit, unsigned cls, size_t max)
{
	size_t from = p->pos, end = limit - from > max ? from + max : limit;
	while (p->pos < end && is_class(p->buf[p->pos], cls))
		p->pos++;
	return p->pos - from;
}

static int start_name(struct patcher *p, size_t limit)
{
	size_t from = p->pos, room = NAME_BUF - p->names_used - p->name_len;
	if (room > NAME_MAX_LEN - p->name_len)
		room = NAME_MAX_LEN - p->name_len;
	size_t n = span(p, limit, C_NAME, room);
	memcpy(p->names + p->names_used + p->name_len, p->buf + from, n);
	p->name_len += n;
	if (p->pos == limit)
		return 0;
	unsigned char c = p->buf[p->pos];
	if (is_class(c, C_NAME))
		return name_append(p, c);  /* fails: too long */
	if (!is_class(c, C_WS) && c != '>' && c != '/')
		return FAIL_HERE(p, "invalid character in element name");
	if (start_element(p) < 0)
		return -1;
	return tag_delimiter(p, c, "");
}

static int attribute_value(struct patcher *p, size_t limit)
{
	const unsigned char *s = p->buf + p->pos;
	size_t n = limit - p->pos;
	const unsigned char *close = memchr(s, p->quote, n);
	size_t upto = close ? (size_t)(close - s) : n;
	size_t stop = find_either(s, upto, '<', '&');
	p->pos += stop;
	if (stop < upto && s[stop] == '&')
		open_reference(p, S_ATTR_VALUE);
	else if (stop < upto)
		return FAIL_HERE(p, "'<' in attribute value");
	else if (close) {
		p->pos++;
		p->state = S_TAG_AFTER_VALUE;
	}
	return 0;
}

/* A start tag, from after its first name character to its '>'. */
static int on_start_tag(struct patcher *p, size_t limit)
{
	while (p->pos < limit) {
		unsigned char c = p->buf[p->pos];
		int r = 0;
		switch (p->state) {
		case S_START_NAME:
			r = start_name(p, limit);
			break;
		case S_TAG_WS:
			if (span(p, limit, C_WS, SIZE_MAX) > 0)
				break;
			if (!is_class(c, C_NAME_START)) {
				r = tag_delimiter(p, c, "invalid character in tag");
				break;
			}
			p->state = S_ATTR_NAME;
			p->name_len = 0;
			/* fall through */
		case S_ATTR_NAME:
			p->name_len += span(p, limit, C_NAME, NAME_MAX_LEN - p->name_len);
			if (p->pos == limit)
				break;
			if (is_class(p->buf[p->pos], C_NAME))
				return FAIL_HERE(p, "name longer than %d bytes", NAME_MAX_LEN);
			p->state = S_ATTR_BEFORE_EQ;
			/* fall through */
		case S_ATTR_BEFORE_EQ:
			if (span(p, limit, C_WS, SIZE_MAX) > 0 && p->pos == limit)
				break;
			if (p->buf[p->pos] != '=')
				return FAIL_HERE(p, "expected '=' after attribute name");
			p->pos++;
			p->state = S_ATTR_AFTER_EQ;
			break;
		case S_ATTR_AFTER_EQ:
			if (span(p, limit, C_WS, SIZE_MAX) > 0)
				break;
			if (c != '"' && c != '\'')
				return FAIL_HERE(p, "attribute value must be quoted");
			p->quote = c;
			p->state = S_ATTR_VALUE;
			p->pos++;
			break;
		case S_ATTR_VALUE:
			r = attribute_value(p, limit);
			break;
		case S_TAG_AFTER_VALUE:
			r = tag_delimiter(p, c, "expected whitespace, '>' or \"/>\" after attribute value");
			break;
		case S_EMPTY_SLASH:
			if (c != '>')
				return FAIL_HERE(p, "expected '>' after '/'");
			pop_element(p);
			enter_text(p);
			p->pos++;
			return 0;
		default:  /* the tag ended, or a reference began */
			return 0;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static int on_end_tag(struct patcher *p, unsigned char c, size_t limit)
{
	size_t top_len;
	const char *top = top_name(p, &top_len);
	if (p->state == S_END_NAME) {
		while (p->name_len < top_len && p->pos < limit &&
		       p->buf[p->pos] == (unsigned char)top[p->name_len]) {
			p->name_len++;
			p->pos++;
		}
		if (p->pos == limit)
			return 0;
		c = p->buf[p->pos];
		bool name_char = is_class(c, p->name_len == 0 ? C_NAME_START : C_NAME);
		if (name_char || p->name_len != top_len) {
			if (p->name_len == 0 && !name_char)
				return FAIL_HERE(p, "invalid character in end tag");
			return fail_at(p, p->tag_abs, "mismatched end tag, expected </%.*s>",
				       (int)(top_len < 40 ? top_len : 40), top);
		}
		p->state = S_END_WS;
	}
	if (c == '>') {
		pop_element(p);
		enter_text(p);
	} else if (!is_class(c, C_WS)) {
		return FAIL_HERE(p, "invalid character in end tag");
	}
	p->pos++;
	return 0;
}

/* ---- fast path for plain content ---- */

/*
 * Below the levels whose layout is followed, most of a document is text,
 * start tags and end tags.  These functions read one such tag with
 * straight-line code instead of a state per step.  They are optimistic: on
 * anything else (comments, references, a tag cut by the end of the buffer,
 * any error) they change nothing and the state machine reads the tag again
 * from its '<', and reports any error.
 */

static bool plain_context(const struct patcher *p)
{
	return p->depth >= 3 || (p->depth == 2 && !p->in_target);
}

static size_t skip_ws(const unsigned char *buf, size_t i, size_t limit)
{
	while (i < limit && is_class(buf[i], C_WS))
		i++;
	return i;
}

static size_t skip_name(const unsigned char *buf, size_t i, size_t limit)
{
	while (i < limit && is_class(buf[i], C_NAME))
		i++;
	return i;
}

/* One attribute, name="value" without references, from buf[i]; 0 if not. */
static size_t plain_attribute(const unsigned char *buf, size_t i, size_t limit)
{
	size_t name = i;
	i = skip_name(buf, i, limit);
	if (i - name > NAME_MAX_LEN)
		return 0;
	i = skip_ws(buf, i, limit);
	if (i >= limit || buf[i] != '=')
		return 0;
	i = skip_ws(buf, i + 1, limit);
	if (i >= limit || (buf[i] != '"' && buf[i] != '\''))
		return 0;
	unsigned char quote = buf[i++];
	i += find_any3(buf + i, limit - i, quote, '<', '&');
	return i < limit && buf[i] == quote ? i + 1 : 0;
}

/* A start tag at buf[lt] (its name already checked to start well); 0 if not plain. */
static size_t plain_start_tag(struct patcher *p, size_t lt, size_t limit)
{
	const unsigned char *buf = p->buf;
	size_t name = lt + 1, i = skip_name(buf, name, limit), len = i - name;
	if (len > NAME_MAX_LEN || p->names_used + len > NAME_BUF || p->depth == MAX_DEPTH)
		return 0;
	for (;;) {
		if (i >= limit)
			return 0;
		if (buf[i] == '>' || buf[i] == '/')
			break;
		if (!is_class(buf[i], C_WS))
			return 0;
		i = skip_ws(buf, i, limit);
		if (i >= limit)
			return 0;
		if (buf[i] == '>' || buf[i] == '/')
			break;
		if (!is_class(buf[i], C_NAME_START) || (i = plain_attribute(buf, i, limit)) == 0)
			return 0;
	}
	if (buf[i] == '/') {
		if (i + 1 >= limit || buf[i + 1] != '>')
			return 0;
		return i + 2;  /* an empty element: nothing to record */
	}
	memcpy(p->names + p->names_used, buf + name, len);
	p->names_used += len;
	p->name_lens[p->depth++] = (unsigned short)len;
	return i + 1;
}

/* An end tag at buf[lt]; 0 if not plain (or not matching). */
static size_t plain_end_tag(struct patcher *p, size_t lt, size_t limit)
{
	size_t len;
	const char *top = top_name(p, &len);
	size_t i = lt + 2;
	if (limit - i <= len || memcmp(p->buf + i, top, len) != 0)
		return 0;
	i = skip_ws(p->buf, i + len, limit);
	if (i >= limit || p->buf[i] != '>')
		return 0;
	pop_element(p);
	return i + 1;
}

/* Text and tags for as long as they are plain; the rest is left to the state machine. */
static int plain_content(struct patcher *p, size_t limit)
{
	const unsigned char *buf = p->buf;
	size_t i = p->pos;
	while (plain_context(p)) {
		i += find_either(buf + i, limit - i, '<', '&');
		if (i + 1 >= limit || buf[i] == '&')
			break;
		size_t next = 0;
		if (buf[i + 1] == '/')
			next = plain_end_tag(p, i, limit);
		else if (is_class(buf[i + 1], C_NAME_START))
			next = plain_start_tag(p, i, limit);
		if (next == 0)
			break;
		i = next;
	}
	p->pos = i;
	enter_text(p);
	return plain_context(p) ? text_fast(p, limit) : 0;
}

static int on_text(struct patcher *p, size_t limit)
{
	if (p->depth == 0)
		return text_outside_root(p, limit);
	if (!plain_context(p))
		return text_tracked(p, limit);
	return plain_content(p, limit);
}

/* ---- tokenizer: references ---- */

static int fail_reference(struct patcher *p)
{
	return fail_at(p, p->ref_abs, "'&' must start a reference such as &amp; or &#38;");
}

static unsigned hex_value(unsigned char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

static int on_reference(struct patcher *p, unsigned char c)
{
	switch (p->state) {
	case S_REF_START:
		if (c == '#') {
			p->state = S_CHARREF;
		} else if (is_class(c, C_NAME_START)) {
			p->state = S_REF_NAME;
			p->name_len = 1;
		} else {
			return fail_reference(p);
		}
		break;
	case S_REF_NAME:
		if (c == ';')
			p->state = p->ret;
		else if (!is_class(c, C_NAME))
			return fail_reference(p);
		else if (p->name_len++ == NAME_MAX_LEN)
			return FAIL_HERE(p, "name longer than %d bytes", NAME_MAX_LEN);
		break;
	case S_CHARREF:  /* after "&#" */
		if (c == 'x') {
			p->state = S_CHARREF_HEX_START;
			break;
		}
		if (!is_class(c, C_DIGIT))
			return fail_reference(p);
		p->charref = hex_value(c);
		p->state = S_CHARREF_DEC;
		break;
	case S_CHARREF_HEX_START:
		if (!is_class(c, C_HEX))
			return fail_reference(p);
		p->charref = hex_value(c);
		p->state = S_CHARREF_HEX;
		break;
	default: { /* S_CHARREF_DEC, S_CHARREF_HEX */
		bool hex = p->state == S_CHARREF_HEX;
		if (c == ';') {
			if (p->charref == 0)
				return fail_at(p, p->ref_abs, "character reference to U+0000");
			p->state = p->ret;
			break;
		}
		if (!is_class(c, hex ? C_HEX : C_DIGIT))
			return fail_reference(p);
		p->charref = p->charref * (hex ? 16u : 10u) + hex_value(c);
		if (p->charref > 0x10FFFF)
			return fail_at(p, p->ref_abs, "character reference beyond U+10FFFF");
		break;
	}
	}
	p->pos++;
	return 0;
}

/* ---- tokenizer: DOCTYPE, with its internal subset ---- */

static int on_doctype(struct patcher *p, size_t limit)
{
	unsigned char c = p->buf[p->pos];
	switch (p->state) {
	case S_DT_QUOTED:
		if (skip_to(p, limit, p->quote))
			p->state = p->ret;
		return 0;
	case S_DOCTYPE:
	case S_DT_DECL:
		if (c == '"' || c == '\'') {
			p->quote = c;
			p->ret = p->state;
			p->state = S_DT_QUOTED;
		} else if (c == '<') {
			return FAIL_HERE(p, "'<' not allowed here in the DOCTYPE");
		} else if (c == '>') {
			if (p->state == S_DT_DECL) {
				p->state = S_DT_SUBSET;
			} else {
				p->doctype_seen = true;
				enter_text(p);
			}
		} else if (c == '[' && p->state == S_DOCTYPE) {
			p->state = S_DT_SUBSET;
		}
		break;
	case S_DT_SUBSET:
		if (c == '<') {
			p->tag_abs = p->buf_abs + p->pos;
			p->state = S_DT_LT;
		} else if (c == ']') {
			p->state = S_DT_AFTER_SUBSET;
		}
		break;
	case S_DT_LT:
		p->ret = S_DT_SUBSET;
		if (c == '!') {
			p->state = S_DT_BANG;
		} else if (c == '?') {
			p->state = S_PI_TARGET;
			p->name_len = 0;
		} else {
			return FAIL_HERE(p, "invalid markup in the DOCTYPE");
		}
		break;
	case S_DT_BANG:
		if (c == '-')
			start_keyword(p, "-", S_COMMENT, "invalid comment, expected \"<!--\"");
		else
			p->state = S_DT_DECL;
		break;
	default: /* S_DT_AFTER_SUBSET */
		if (c == '>') {
			p->doctype_seen = true;
			enter_text(p);
		} else if (!is_class(c, C_WS)) {
			return FAIL_HERE(p, "expected '>' after the DOCTYPE's internal subset");
		}
		break;
	}
	p->pos++;
	return 0;
}

/* ---- tokenizer: dispatch ---- */

/* Tokenizes buf[pos, limit). */
static int scan(struct patcher *p, size_t limit)
{
	while (p->pos < limit) {
		unsigned char c = p->buf[p->pos];
		int r;
		switch (p->state) {
		case S_TEXT: r = on_text(p, limit); break;
		case S_LT: r = on_lt(p, c); break;
		case S_BANG: r = on_bang(p, c); break;
		case S_KEYWORD: r = on_keyword(p, c); break;
		case S_COMMENT: case S_COMMENT_DASH: case S_COMMENT_DASH2:
			r = on_comment(p, limit);
			break;
		case S_CDATA: case S_CDATA_BRACKET: case S_CDATA_BRACKET2:
			r = on_cdata(p, limit);
			break;
		case S_PI_TARGET: case S_PI_BODY: case S_PI_QUESTION:
			r = on_pi(p, limit);
			break;
		case S_START_NAME: case S_TAG_WS: case S_ATTR_NAME: case S_ATTR_BEFORE_EQ:
		case S_ATTR_AFTER_EQ: case S_ATTR_VALUE: case S_TAG_AFTER_VALUE: case S_EMPTY_SLASH:
			r = on_start_tag(p, limit);
			break;
		case S_END_NAME: case S_END_WS: r = on_end_tag(p, c, limit); break;
		case S_REF_START: case S_REF_NAME: case S_CHARREF: case S_CHARREF_DEC:
		case S_CHARREF_HEX_START: case S_CHARREF_HEX:
			r = on_reference(p, c);
			break;
		default: r = on_doctype(p, limit); break;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_end(struct patcher *p)
{
	unsigned long long at = p->buf_abs + p->len;
	if (p->utf8_need > 0)
		return fail_at(p, at, "invalid UTF-8 (truncated at the end of the document)");
	if (p->state == S_KEYWORD)
		p->state = p->keyword_next == S_TEXT ? S_LT : p->keyword_next;
	if (p->state != S_TEXT)
		return fail_at(p, at, "unexpected end of the document in %s", construct_name[p->state]);
	if (p->depth > 0) {
		size_t len;
		const char *name = top_name(p, &len);
		return fail_at(p, at, "unexpected end of the document: <%.*s> is not closed",
			       (int)(len < 40 ? len : 40), name);
	}
	if (!p->root_seen)
		return fail_at(p, at, "no root element");
	if (!p->inserted)
		return fail_at(p, at, "the <domain> element is empty");
	return 0;
}

int xmlpatch_stream(int in_fd, int out_fd, const char *const *fragments, size_t n,
		    struct xmlpatch_result *result, struct xmlpatch_error *err)
{
	static const struct indent two_spaces = { .len = 2, .valid = true, .s = "  " };
	struct patcher p;
	memset(&p, 0, sizeof p);
	p.in_fd = in_fd;
	p.out_fd = out_fd;
	p.fragments = fragments;
	p.nfragments = n;
	p.result = result;
	p.err = err;
	p.hold = p.bad = NONE;
	p.state = S_TEXT;
	p.line_start = true;  /* the start of the document begins a line */
	p.unit = two_spaces;
	err->line = err->column = 0;
	err->message[0] = '\0';

	ssize_t got;
	while ((got = refill(&p)) > 0) {
		validate(&p);
		if (scan(&p, p.bad != NONE ? p.bad : p.len) < 0)
			return -1;
		if (p.bad != NONE)
			return fail_invalid_byte(&p);
	}
	if (got < 0 || check_end(&p) < 0)
		return -1;
	return pass_through(&p, p.len);
}

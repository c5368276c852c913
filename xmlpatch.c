/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xmlpatch.c: streaming splice of element text into <domain>/<devices>.
 *
 * The document is read in fixed chunks into one window, checked as it goes
 * and written out from the same window, unchanged except for the inserted
 * text.  Memory use does not depend on the document.  Four parts, each using
 * only those above it:
 *
 *   io         the window: reads the document through a read(2)-like
 *              function, writes out what is done, keeps what an edit may
 *              still need; the inserted text; error positions
 *   validate   UTF-8 and control characters, newlines counted as it goes
 *   tokenizer  the markup, checked; reports start tags, end tags, text and
 *              other markup with depth, name and document offset, and knows
 *              no element by name
 *   splice     the policy: which end tag the new elements go before, and
 *              how their lines are laid out; the only part that knows
 *              <domain> and <devices>
 *
 * xmlpatch_stream(), at the end, drives them: the tokenizer reads the
 * window and hands each event to the splice (which edits the output at the
 * offsets reported) and then says how deep to report; when the window is
 * read, it is refilled and validated.
 */
#include "xmlpatch.h"
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
	CHUNK = 64 * 1024,    /* bytes read at a time */
	KEEP = 512,           /* bytes of the previous chunk kept: a tag's '<' is still at hand */
	MAX_DEPTH = 256,      /* open elements */
	NAME_MAX_LEN = 256,   /* bytes in one name */
	NAME_BUF = 16 * 1024, /* bytes of all open element names together */
	INDENT_MAX = 128,     /* longer indentation is not used as a model */
	DECL_MAX = 256,       /* bytes of the XML declaration's body */
	STAGE = 4096,         /* buffer for the inserted text */
};

#define NONE ((size_t)-1)
#define NO_OFFSET (~0ull)

/* The patcher's memory, one allocation per document; none of it needs zeroing. */
struct buffers {
	unsigned char window[KEEP + CHUNK];
	char names[NAME_BUF];
	unsigned short name_lens[MAX_DEPTH];
	char decl[DECL_MAX];
	char stage[STAGE];
};

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

/* ---- io: the window over the document, the output, error positions ---- */

/* A UTF-8 character cut by the end of a chunk: what its next byte may be. */
struct utf8 {
	unsigned need;                   /* continuation bytes still expected */
	unsigned char lo, hi;            /* range allowed for the next one */
};

struct io {
	int in_fd, out_fd;
	ssize_t (*read)(int fd, void *buf, size_t count);
	struct xmlpatch_error *err;

	/* buf[0, len) is the document from offset abs.  The tokenizer reads
	 * buf[pos, checked); the document before offset written is written. */
	unsigned char *buf;
	size_t len, pos;
	unsigned long long abs, written;

	/* buf[0, checked) is valid, buf[bad] is not (bad is NONE while all is) */
	size_t checked, bad;
	struct utf8 utf8;
	unsigned long long newlines;     /* '\n' in the document before buf[checked] */
	unsigned long long line_before;  /* offset after the last '\n' before buf[0] */
	const char *newline;             /* "\n" or "\r\n", as the first newline; NULL before it */

	/* the inserted text, staged and written in blocks */
	char *stage;
	size_t stage_len;
	unsigned long long emitted;      /* bytes emitted since it was last set to 0 */
};

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

/* Line and column of document offset at (clamped to the window). */
static void locate(const struct io *io, unsigned long long at, unsigned long *line, unsigned long *column)
{
	if (at < io->abs)
		at = io->abs;
	size_t idx = (size_t)(at - io->abs);
	if (idx > io->checked)
		idx = io->checked;
	size_t after = count_newlines(io->buf + idx, io->checked - idx);
	size_t nl = last_newline(io->buf, idx);
	unsigned long long line_begin = nl == NONE ? io->line_before : io->abs + nl + 1;
	*line = (unsigned long)(io->newlines - after + 1);
	*column = (unsigned long)(io->abs + idx - line_begin + 1);
}

/* "line L:C: " and the reason, for the document at offset at. */
__attribute__((format(printf, 3, 0)))
static void vfail_at(struct io *io, unsigned long long at, const char *fmt, va_list ap)
{
	struct xmlpatch_error *e = io->err;
	locate(io, at, &e->line, &e->column);
	int n = format(e->message, sizeof e->message, "line %lu:%lu: ", e->line, e->column);
	if (n < 0 || (size_t)n >= sizeof e->message)
		return;
	if (vformat(e->message + n, sizeof e->message - (size_t)n, fmt, ap) < 0)
		e->message[n] = '\0';
	/* names and values quoted from the document may hold control bytes */
	for (char *c = e->message + n; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

__attribute__((format(printf, 3, 4)))
static int fail_at(struct io *io, unsigned long long at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(io, at, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_io(struct io *io, const char *what)
{
	io->err->line = io->err->column = 0;
	format(io->err->message, sizeof io->err->message, "%s: %s", what, strerror(errno));
	return -1;
}

static int write_all(struct io *io, const void *data, size_t n)
{
	const char *s = data;
	while (n > 0) {
		ssize_t w = write(io->out_fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return fail_io(io, "write");
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the document up to offset upto, which is in the window. */
static int copy_to(struct io *io, unsigned long long upto)
{
	if (upto <= io->written)
		return 0;
	int r = write_all(io, io->buf + (io->written - io->abs), (size_t)(upto - io->written));
	io->written = upto;
	return r;
}

/* Leaves the document up to offset upto out of the output. */
static void drop_to(struct io *io, unsigned long long upto)
{
	io->written = upto;
}

static int emit(struct io *io, const char *s, size_t n)
{
	io->emitted += n;
	while (n > 0) {
		if (io->stage_len == STAGE) {
			if (write_all(io, io->stage, STAGE) < 0)
				return -1;
			io->stage_len = 0;
		}
		size_t room = STAGE - io->stage_len, take = n < room ? n : room;
		memcpy(io->stage + io->stage_len, s, take);
		io->stage_len += take;
		s += take;
		n -= take;
	}
	return 0;
}

static int emit_str(struct io *io, const char *s)
{
	return emit(io, s, strlen(s));
}

static int emit_flush(struct io *io)
{
	int r = write_all(io, io->stage, io->stage_len);
	io->stage_len = 0;
	return r;
}

/* Moves the window past its first discard bytes. */
static void slide(struct io *io, size_t discard)
{
	size_t nl = last_newline(io->buf, discard);
	if (nl != NONE)
		io->line_before = io->abs + nl + 1;
	memmove(io->buf, io->buf + discard, io->len - discard);
	io->abs += discard;
	io->len -= discard;
	io->pos -= discard;
	io->checked -= discard;
}

/*
 * Writes the document up to offset keep (NO_OFFSET: all of the window), the
 * first byte an edit may still need; keeps the last KEEP bytes, and any from
 * keep on; reads the next chunk.  Returns bytes read, 0 at the end, -1 on
 * error.  The tokenizer's keep is never more than KEEP bytes back.
 */
static ssize_t refill(struct io *io, unsigned long long keep)
{
	size_t keep_at = keep == NO_OFFSET ? io->len : (size_t)(keep - io->abs);
	if (copy_to(io, io->abs + keep_at) < 0)
		return -1;
	size_t discard = io->len > KEEP ? io->len - KEEP : 0;
	if (keep_at < discard)
		discard = keep_at;
	if (discard > 0)
		slide(io, discard);
	size_t room = KEEP + CHUNK - io->len;
	for (;;) {
		ssize_t n = io->read(io->in_fd, io->buf + io->len, room < CHUNK ? room : CHUNK);
		if (n >= 0) {
			io->len += (size_t)n;
			return n;
		}
		if (errno != EINTR)
			return fail_io(io, "read");
	}
}

/* ---- validate: UTF-8, control characters, newlines ---- */

static void note_newline(struct io *io, size_t i)
{
	io->newlines++;
	if (!io->newline)
		io->newline = i > 0 && io->buf[i - 1] == '\r' ? "\r\n" : "\n";
}

/* Sets the lead byte's constraints, or returns false if c cannot start a character. */
static bool utf8_lead(struct utf8 *u, unsigned char c)
{
	u->lo = 0x80;
	u->hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		u->need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		u->need = 2;
		if (c == 0xE0)
			u->lo = 0xA0;  /* overlong */
		else if (c == 0xED)
			u->hi = 0x9F;  /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		u->need = 3;
		if (c == 0xF0)
			u->lo = 0x90;
		else if (c == 0xF4)
			u->hi = 0x8F;  /* beyond U+10FFFF */
	} else {
		return false;
	}
	return true;
}

/* Validates buf[checked, len); on failure sets bad and stops there. */
static void validate(struct io *io)
{
	struct utf8 *u = &io->utf8;
	size_t i = io->checked, end = io->len;
	while (i < end) {
		if (u->need == 0) {
			i += printable_ascii_span(io->buf + i, end - i);
			if (i >= end)
				break;
		}
		unsigned char c = io->buf[i];
		if (u->need > 0) {
			if (c < u->lo || c > u->hi)
				break;
			u->need--;
			u->lo = 0x80;
			u->hi = 0xBF;
		} else if (c >= 0x80) {
			if (!utf8_lead(u, c))
				break;
		} else if (c == '\n') {
			note_newline(io, i);
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			break;
		}
		i++;
	}
	io->checked = i;
	io->bad = i < end ? i : NONE;
}

static int fail_invalid_byte(struct io *io)
{
	unsigned long long at = io->abs + io->bad;
	unsigned char c = io->buf[io->bad];
	if ((at == 0 && (c == 0xFE || c == 0xFF)) || (at < 4 && c == 0))
		return fail_at(io, at, "document is not UTF-8 (UTF-16 or UTF-32?)");
	if (c < 0x20)
		return fail_at(io, at, "control character 0x%02X is not allowed in XML", c);
	return fail_at(io, at, "invalid UTF-8 (byte 0x%02X)", c);
}

static int check_utf8_end(struct io *io)
{
	if (io->utf8.need > 0)
		return fail_at(io, io->abs + io->len, "invalid UTF-8 (truncated at the end of the document)");
	return 0;
}

/*
 * ---- tokenizer ----
 *
 * A state machine in the manner of yxml: one state per place in the
 * grammar, no allocation, resumable at any byte, so that any construct may
 * straddle chunks.  It reads io->buf[pos, checked) and hands each event to
 * a sink as it goes.  Of its caller it knows only that sink and
 * report_depth, how deep to report.
 *
 * What it checks (a failure is an error at line:column, with the reason):
 *  - structure: exactly one root element; before it an optional BOM, the
 *    XML declaration (first, if there is one), at most one DOCTYPE,
 *    comments, PIs and whitespace; after it comments, PIs and whitespace;
 *    no CDATA section and no end tag outside it
 *  - tags: names made of name characters; every end tag names the element
 *    it closes; attributes name="value" or name='value' after whitespace,
 *    no '<' in a value; "/>" closes an empty element
 *  - references, in text and attribute values: &name; &#N; &#xH; with a
 *    character number from 1 to 0x10FFFF
 *  - comments have no "--" inside; CDATA sections and PIs are closed; a PI
 *    has a target; the XML declaration names no encoding but UTF-8
 *  - limits: 256 levels of elements, names of 256 bytes, 16 KiB of open
 *    element names in all, an XML declaration of 256 bytes
 * UTF-8 and control characters are checked before it, by validate().
 *
 * What it does not check, deliberately for now, and where each check goes:
 *  - duplicate attributes: attribute_name(), where each name ends
 *  - undefined entities (without a DTD only the five predefined ones are
 *    defined): entity_reference_done()
 *  - character references to characters XML does not allow (U+1 to U+1F
 *    but tab, CR and LF; surrogates; U+FFFE, U+FFFF): char_reference_done()
 *  - "]]>" in text: text(), which would look for ']' as well
 *  - the XML declaration's syntax (version first, then encoding, then
 *    standalone): check_declaration()
 *  - name characters beyond ASCII: every byte from 0x80 counts as one
 *    (char_class below)
 *  - the DOCTYPE's internal subset: skimmed for its end, its quoted
 *    strings, comments and PIs, not parsed
 *  - namespaces: a prefix is part of the name
 */

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
	S_ATTR_NAME, S_ATTR_BEFORE_EQ, S_ATTR_AFTER_EQ, S_ATTR_VALUE,
	S_TAG_DELIM,       /* after the element name or an attribute value: whitespace, '>' or "/>" */
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
	[S_ATTR_VALUE] = "an attribute value", [S_TAG_DELIM] = "a tag",
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

static inline bool is_class(unsigned char c, unsigned cls)
{
	return (char_class[c] & cls) != 0;
}

/* Index of the first byte from buf[i] on, before end, not of class cls. */
static inline size_t skip_class(const unsigned char *buf, size_t i, size_t end, unsigned cls)
{
	while (i < end && is_class(buf[i], cls))
		i++;
	return i;
}

enum tok_event_kind {
	TOK_TEXT,    /* character data between markup */
	TOK_START,   /* the name of a start tag is read */
	TOK_END,     /* an element ends: the name of its end tag is read, or the '/' of its "/>" */
	TOK_MARKUP,  /* a comment, PI, CDATA section, DOCTYPE or reference ended */
};

/*
 * One event.  Elements are reported down to report_depth (the root is at
 * depth 1); text and other markup directly inside elements above that depth,
 * and outside the root (depth 0).  Character data broken by a reference or
 * by the end of the window comes as several TEXT events.
 */
struct tok_event {
	enum tok_event_kind kind;
	size_t depth;                    /* of the element; TEXT, MARKUP: of the one holding it */
	const char *name;                /* START, END: the element's name */
	size_t name_len;
	unsigned long long at;           /* START, END: offset of the tag's '<', or of the '/' of
					    "/>"; still in the window, and not yet written */
	bool empty;                      /* END: the element was "<name .../>" */
	const unsigned char *text;       /* TEXT, valid until the window moves */
	size_t text_len;
};

struct tok {
	struct io *io;
	/* where events go: 0, or -1 with the error filled in (which the tokenizer passes on) */
	int (*report)(void *sink, const struct tok_event *ev);
	void *sink;
	size_t report_depth;             /* set by the caller at any time */
	enum state state, ret;           /* ret: where a comment, PI, reference or quote returns */

	/* open elements: names packed in names[], lengths in name_lens[] */
	char *names;
	unsigned short *name_lens;
	size_t names_used, depth;

	/* the construct being read */
	unsigned long long tag_abs;      /* offset of its '<' */
	unsigned long long ref_abs;      /* offset of the '&' of a reference */
	size_t name_len;                 /* bytes of the name read so far */
	unsigned char quote;
	const char *keyword, *keyword_error;
	enum state keyword_next;
	unsigned long charref;
	char pi_target[3];

	/* before the root */
	bool in_decl;                    /* the PI being read is the XML declaration */
	char *decl;
	size_t decl_len, bom_len;
	bool root_seen, doctype_seen;
};

/*
 * Where the tokenizer reads: buf[i, limit) is what is left of the window's
 * checked bytes, buf[0] is at document offset abs, state is the place in
 * the grammar.  The tokenizer works on copies of it (io->pos and t->state
 * are written back when tok_read returns), so that the loops over text and
 * tags keep it in registers.
 */
struct cursor {
	const unsigned char *buf;
	size_t i, limit;
	unsigned long long abs;
	enum state state;
};

__attribute__((format(printf, 3, 4)))
static int tok_fail(struct tok *t, unsigned long long at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(t->io, at, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at the byte the cursor is at. */
#define FAIL_HERE(t, c, ...) tok_fail((t), (c)->abs + (c)->i, __VA_ARGS__)

static int shown(size_t len)
{
	return (int)(len < 40 ? len : 40);
}

/*
 * Skips name characters, at most room of them; false when there are more,
 * the cursor then at the first that does not fit.
 */
static bool skip_name(struct cursor *c, size_t room)
{
	size_t from = c->i;
	c->i = skip_class(c->buf, from, c->limit, C_NAME);
	if (c->i - from <= room)
		return true;
	c->i = from + room;
	return false;
}

/* ---- tokenizer: events ---- */

static const char *top_name(const struct tok *t, size_t *len)
{
	*len = t->name_lens[t->depth - 1];
	return t->names + t->names_used - *len;
}

static int element_event(const struct tok *t, enum tok_event_kind kind, unsigned long long at, bool empty)
{
	size_t len;
	const char *name = top_name(t, &len);
	const struct tok_event ev = { .kind = kind, .depth = t->depth, .name = name, .name_len = len,
				      .at = at, .empty = empty };
	return t->report(t->sink, &ev);
}

static int text_event(const struct tok *t, const unsigned char *text, size_t len)
{
	const struct tok_event ev = { .kind = TOK_TEXT, .depth = t->depth, .text = text, .text_len = len };
	return t->report(t->sink, &ev);
}

/* START or END of the innermost open element, if it is within report_depth. */
static inline int report_element(const struct tok *t, enum tok_event_kind kind, unsigned long long at,
				 bool empty)
{
	return t->depth > t->report_depth ? 0 : element_event(t, kind, at, empty);
}

/* TEXT of buf[from, i), if there is any and it is in content reported. */
static inline int report_text(const struct tok *t, const struct cursor *c, size_t from)
{
	return c->i == from || t->depth >= t->report_depth ? 0 : text_event(t, c->buf + from, c->i - from);
}

/* A comment, PI, CDATA section, DOCTYPE or reference ended: on to state back. */
static int markup_done(const struct tok *t, struct cursor *c, enum state back)
{
	c->state = back;
	if (back != S_TEXT || t->depth >= t->report_depth)
		return 0;
	const struct tok_event ev = { .kind = TOK_MARKUP, .depth = t->depth };
	return t->report(t->sink, &ev);
}

/* ---- tokenizer: text ---- */

/* A '<' in text. */
static int open_markup(struct tok *t, struct cursor *c)
{
	t->tag_abs = c->abs + c->i++;
	t->ret = S_TEXT;
	c->state = S_LT;
	return 0;
}

/* A '&' in text or an attribute value (back: where the reference returns). */
static void open_reference(struct tok *t, struct cursor *c, enum state back)
{
	t->ref_abs = c->abs + c->i++;
	t->ret = back;
	c->state = S_REF_START;
}

static void start_keyword(struct tok *t, struct cursor *c, const char *rest, enum state next, const char *error)
{
	c->state = S_KEYWORD;
	t->keyword = rest;
	t->keyword_next = next;
	t->keyword_error = error;
}

/* Outside the root: whitespace, and a BOM at the very start. */
static int outside_root(struct tok *t, struct cursor *c)
{
	size_t from = c->i;
	c->i = skip_class(c->buf, from, c->limit, C_WS);
	int r = report_text(t, c, from);
	if (r < 0 || c->i == c->limit)
		return r;
	unsigned char b = c->buf[c->i];
	if (b == '<')
		return open_markup(t, c);
	if (b == 0xEF && c->abs + c->i == 0) {
		c->i++;
		t->bom_len = 3;
		start_keyword(t, c, "\xBB\xBF", S_TEXT, "text outside the root element");
		return 0;
	}
	return FAIL_HERE(t, c, "text outside the root element");
}

/* Character data inside the root, up to the next '<' or '&'. */
static int text(struct tok *t, struct cursor *c)
{
	size_t from = c->i;
	c->i += find_either(c->buf + from, c->limit - from, '<', '&');
	int r = report_text(t, c, from);
	if (r < 0 || c->i == c->limit)
		return r;
	if (c->buf[c->i] == '<')
		return open_markup(t, c);
	open_reference(t, c, S_TEXT);
	return 0;
}

/* ---- tokenizer: start and end tags ---- */

/* The name being read cannot grow: fails with the limit it reached. */
static int name_full(struct tok *t, const struct cursor *c)
{
	if (t->name_len == NAME_MAX_LEN)
		return FAIL_HERE(t, c, "name longer than %d bytes", NAME_MAX_LEN);
	return FAIL_HERE(t, c, "open element names longer than %d bytes in all", NAME_BUF);
}

/* The element whose name was just read is open. */
static int open_element(struct tok *t)
{
	const char *name = t->names + t->names_used;
	if (t->depth == 0 && t->root_seen)
		return tok_fail(t, t->tag_abs, "second root element <%.*s>", shown(t->name_len), name);
	if (t->depth == MAX_DEPTH)
		return tok_fail(t, t->tag_abs, "elements nested more than %d deep", MAX_DEPTH);
	t->root_seen = true;
	t->name_lens[t->depth++] = (unsigned short)t->name_len;
	t->names_used += t->name_len;
	return report_element(t, TOK_START, t->tag_abs, false);
}

static void close_element(struct tok *t)
{
	t->names_used -= t->name_lens[--t->depth];
}

/* The rest of an element's name in its start tag, stored after the open elements' names. */
static int element_name(struct tok *t, struct cursor *c)
{
	size_t room = NAME_BUF - t->names_used - t->name_len;
	if (room > NAME_MAX_LEN - t->name_len)
		room = NAME_MAX_LEN - t->name_len;
	char *to = t->names + t->names_used + t->name_len, *start = to;
	size_t i = c->i, end = c->limit - i > room ? i + room : c->limit;
	while (i < end && is_class(c->buf[i], C_NAME))
		*to++ = (char)c->buf[i++];
	t->name_len += (size_t)(to - start);
	c->i = i;
	if (i == c->limit)
		return 0;
	unsigned char b = c->buf[i];
	if (is_class(b, C_NAME))
		return name_full(t, c);
	if (!is_class(b, C_WS) && b != '>' && b != '/')
		return FAIL_HERE(t, c, "invalid character in element name");
	c->state = S_TAG_DELIM;
	return open_element(t);
}

/* After the element name or an attribute value: whitespace, '>', or the '/' of "/>". */
static inline int tag_delimiter(struct tok *t, struct cursor *c, const char *what)
{
	unsigned char b = c->buf[c->i];
	if (b == '>') {
		c->state = S_TEXT;
	} else if (b == '/') {
		c->state = S_EMPTY_SLASH;
		c->i++;
		return report_element(t, TOK_END, c->abs + c->i - 1, true);
	} else if (is_class(b, C_WS)) {
		c->state = S_TAG_WS;
	} else {
		return FAIL_HERE(t, c, "%s", what);
	}
	c->i++;
	return 0;
}

/* Whitespace between attributes, up to the next attribute's name or the tag's end. */
static int tag_whitespace(struct tok *t, struct cursor *c)
{
	c->i = skip_class(c->buf, c->i, c->limit, C_WS);
	if (c->i == c->limit)
		return 0;
	if (!is_class(c->buf[c->i], C_NAME_START))
		return tag_delimiter(t, c, "invalid character in tag");
	c->state = S_ATTR_NAME;
	t->name_len = 0;
	return 0;
}

/* An attribute's name.  (Where it ends is where a duplicate would be found.) */
static int attribute_name(struct tok *t, struct cursor *c)
{
	size_t from = c->i;
	bool fits = skip_name(c, NAME_MAX_LEN - t->name_len);
	t->name_len += c->i - from;
	if (!fits)
		return FAIL_HERE(t, c, "name longer than %d bytes", NAME_MAX_LEN);
	if (c->i == c->limit)
		return 0;
	c->state = S_ATTR_BEFORE_EQ;
	return 0;
}

/* Up to an attribute's '='. */
static int attribute_equals(struct tok *t, struct cursor *c)
{
	c->i = skip_class(c->buf, c->i, c->limit, C_WS);
	if (c->i == c->limit)
		return 0;
	if (c->buf[c->i] != '=')
		return FAIL_HERE(t, c, "expected '=' after attribute name");
	c->i++;
	c->state = S_ATTR_AFTER_EQ;
	return 0;
}

/* From an attribute's '=' to the quote opening its value. */
static int attribute_quote(struct tok *t, struct cursor *c)
{
	c->i = skip_class(c->buf, c->i, c->limit, C_WS);
	if (c->i == c->limit)
		return 0;
	unsigned char b = c->buf[c->i];
	if (b != '"' && b != '\'')
		return FAIL_HERE(t, c, "attribute value must be quoted");
	t->quote = b;
	c->i++;
	c->state = S_ATTR_VALUE;
	return 0;
}

/* An attribute value, up to its closing quote, a reference or the end of the window. */
static int attribute_value(struct tok *t, struct cursor *c)
{
	c->i += find_any3(c->buf + c->i, c->limit - c->i, t->quote, '<', '&');
	if (c->i == c->limit)
		return 0;
	unsigned char b = c->buf[c->i];
	if (b == '<')
		return FAIL_HERE(t, c, "'<' in attribute value");
	if (b == '&') {
		open_reference(t, c, S_ATTR_VALUE);
	} else {
		c->i++;
		c->state = S_TAG_DELIM;
	}
	return 0;
}

/* The '>' after the '/' of "/>". */
static int empty_tag_end(struct tok *t, struct cursor *c)
{
	if (c->buf[c->i] != '>')
		return FAIL_HERE(t, c, "expected '>' after '/'");
	c->i++;
	close_element(t);
	c->state = S_TEXT;
	return 0;
}

static bool in_start_tag(enum state s)
{
	return s >= S_START_NAME && s <= S_EMPTY_SLASH;
}

/*
 * A start tag, from where it stopped to its end: the one start-tag grammar.
 * Each step reads as far as it can and moves to the next state; when it got
 * there, the next step follows at once (the cases fall through), so a tag
 * wholly in the window is read in one pass.
 */
static int start_tag(struct tok *t, struct cursor *c)
{
	int r = 0;
	while (r == 0 && c->i < c->limit && in_start_tag(c->state)) {
		switch (c->state) {
		case S_EMPTY_SLASH:
			r = empty_tag_end(t, c);
			break;
		case S_START_NAME:
			r = element_name(t, c);
			if (r < 0 || c->state != S_TAG_DELIM)
				break;
			/* fall through */
		case S_TAG_DELIM:
			r = tag_delimiter(t, c, "expected whitespace, '>' or \"/>\" after attribute value");
			if (r < 0 || c->state != S_TAG_WS)
				break;
			/* fall through */
		case S_TAG_WS:
			r = tag_whitespace(t, c);
			if (r < 0 || c->state != S_ATTR_NAME)
				break;
			/* fall through */
		case S_ATTR_NAME:
			r = attribute_name(t, c);
			if (r < 0 || c->state != S_ATTR_BEFORE_EQ)
				break;
			/* fall through */
		case S_ATTR_BEFORE_EQ:
			r = attribute_equals(t, c);
			if (r < 0 || c->state != S_ATTR_AFTER_EQ)
				break;
			/* fall through */
		case S_ATTR_AFTER_EQ:
			r = attribute_quote(t, c);
			if (r < 0 || c->state != S_ATTR_VALUE)
				break;
			/* fall through */
		default: /* S_ATTR_VALUE */
			r = attribute_value(t, c);
			break;
		}
	}
	return r;
}

/* The name of an end tag, matched against the open element's; then TOK_END. */
static int end_tag_name(struct tok *t, struct cursor *c)
{
	size_t len;
	const char *top = top_name(t, &len);
	const unsigned char *from = c->buf + c->i;
	const char *want = top + t->name_len;
	size_t n = len - t->name_len, k = 0;
	if (n > c->limit - c->i)
		n = c->limit - c->i;
	while (k < n && from[k] == (unsigned char)want[k])
		k++;
	size_t matched = t->name_len += k, i = c->i += k;
	if (i == c->limit)
		return 0;
	bool name_char = is_class(c->buf[i], matched == 0 ? C_NAME_START : C_NAME);
	if (matched == 0 && !name_char)
		return FAIL_HERE(t, c, "invalid character in end tag");
	if (name_char || matched != len)
		return tok_fail(t, t->tag_abs, "mismatched end tag, expected </%.*s>", shown(len), top);
	c->state = S_END_WS;
	return report_element(t, TOK_END, t->tag_abs, false);
}

/* An end tag, from where it stopped (after "</") to its '>'. */
static int end_tag(struct tok *t, struct cursor *c)
{
	if (c->state == S_END_NAME) {
		int r = end_tag_name(t, c);
		if (r < 0 || c->state == S_END_NAME)
			return r;
	}
	c->i = skip_class(c->buf, c->i, c->limit, C_WS);
	if (c->i == c->limit)
		return 0;
	if (c->buf[c->i] != '>')
		return FAIL_HERE(t, c, "invalid character in end tag");
	c->i++;
	close_element(t);
	c->state = S_TEXT;
	return 0;
}

/* After '<': a start tag, an end tag, "<!" or "<?". */
static int after_lt(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i++];
	if (is_class(b, C_NAME_START)) {
		c->state = S_START_NAME;
		t->name_len = 0;
		if (t->names_used == NAME_BUF)
			return name_full(t, c);
		t->names[t->names_used] = (char)b;
		t->name_len = 1;
		return 0;
	}
	switch (b) {
	case '/':
		if (t->depth == 0)
			return tok_fail(t, t->tag_abs, "end tag outside the root element");
		c->state = S_END_NAME;
		t->name_len = 0;
		return 0;
	case '!':
		c->state = S_BANG;
		return 0;
	case '?':
		c->state = S_PI_TARGET;
		t->name_len = 0;
		return 0;
	default:
		c->i--;
		return FAIL_HERE(t, c, "invalid character after '<'");
	}
}

static bool in_end_tag(enum state s)
{
	return s == S_END_NAME || s == S_END_WS;
}

/* Text, a '<', or a tag. */
static bool in_content(enum state s)
{
	return s == S_TEXT || s == S_LT || in_start_tag(s) || in_end_tag(s);
}

/*
 * Text and tags, the bulk of a document, in one loop on a local copy of the
 * cursor, until other markup begins or the window ends.
 */
static int content(struct tok *t, struct cursor *at)
{
	struct cursor c = *at;
	int r = 0;
	while (r == 0 && c.i < c.limit && in_content(c.state)) {
		/* each stage goes on from where the one before stopped, if it can */
		if (c.state == S_TEXT)
			r = t->depth == 0 ? outside_root(t, &c) : text(t, &c);
		if (r == 0 && c.state == S_LT && c.i < c.limit)
			r = after_lt(t, &c);
		if (r == 0 && in_start_tag(c.state) && c.i < c.limit)
			r = start_tag(t, &c);
		else if (r == 0 && in_end_tag(c.state) && c.i < c.limit)
			r = end_tag(t, &c);
	}
	*at = c;
	return r;
}

/* ---- tokenizer: "<!" and keywords ---- */

static int after_bang(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	if (b == '-') {
		start_keyword(t, c, "-", S_COMMENT, "invalid comment, expected \"<!--\"");
	} else if (b == '[') {
		if (t->depth == 0)
			return FAIL_HERE(t, c, "CDATA section outside the root element");
		start_keyword(t, c, "CDATA[", S_CDATA, "invalid CDATA section, expected \"<![CDATA[\"");
	} else if (b == 'D') {
		if (t->root_seen || t->doctype_seen)
			return FAIL_HERE(t, c, "DOCTYPE is only allowed once, before the root element");
		start_keyword(t, c, "OCTYPE", S_DOCTYPE, "invalid DOCTYPE, expected \"<!DOCTYPE\"");
	} else {
		return FAIL_HERE(t, c, "invalid markup after \"<!\"");
	}
	c->i++;
	return 0;
}

static int keyword(struct tok *t, struct cursor *c)
{
	if (c->buf[c->i] != (unsigned char)*t->keyword)
		return FAIL_HERE(t, c, "%s", t->keyword_error);
	c->i++;
	if (*++t->keyword == '\0')
		c->state = t->keyword_next;
	return 0;
}

/* ---- tokenizer: comments, CDATA, processing instructions ---- */

/* Skips to the next byte b; true when found (the cursor is then past it). */
static bool skip_to(struct cursor *c, unsigned char b)
{
	const unsigned char *q = memchr(c->buf + c->i, b, c->limit - c->i);
	c->i = q ? (size_t)(q - c->buf) + 1 : c->limit;
	return q != NULL;
}

static int comment(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	switch (c->state) {
	case S_COMMENT:
		if (skip_to(c, '-'))
			c->state = S_COMMENT_DASH;
		return 0;
	case S_COMMENT_DASH:
		c->state = b == '-' ? S_COMMENT_DASH2 : S_COMMENT;
		break;
	default:
		if (b != '>')
			return FAIL_HERE(t, c, "\"--\" is not allowed inside a comment");
		c->i++;
		return markup_done(t, c, t->ret);
	}
	c->i++;
	return 0;
}

static int cdata(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	switch (c->state) {
	case S_CDATA:
		if (skip_to(c, ']'))
			c->state = S_CDATA_BRACKET;
		return 0;
	case S_CDATA_BRACKET:
		c->state = b == ']' ? S_CDATA_BRACKET2 : S_CDATA;
		break;
	default:
		if (b == '>') {
			c->i++;
			return markup_done(t, c, S_TEXT);
		}
		if (b != ']')
			c->state = S_CDATA;
		break;
	}
	c->i++;
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
static int check_declaration(struct tok *t)
{
	const char *s = t->decl + 1, *end = t->decl + t->decl_len;
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
		return tok_fail(t, t->tag_abs, "document is not UTF-8 (encoding=\"%.*s\")", shown(n), value);
	}
	return 0;
}

static int decl_append(struct tok *t, const unsigned char *s, size_t n)
{
	if (!t->in_decl)
		return 0;
	if (n > DECL_MAX - t->decl_len)
		return tok_fail(t, t->tag_abs, "XML declaration longer than %d bytes", DECL_MAX);
	memcpy(t->decl + t->decl_len, s, n);
	t->decl_len += n;
	return 0;
}

static int end_pi_target(struct tok *t, struct cursor *c, unsigned char b)
{
	if (t->name_len == 0)
		return FAIL_HERE(t, c, "processing instruction without a target");
	t->in_decl = t->name_len == 3 && ascii_ieq(t->pi_target, "xml", 3);
	if (t->in_decl) {
		if (t->tag_abs != t->bom_len || t->ret != S_TEXT)
			return tok_fail(t, t->tag_abs, "XML declaration not at the start of the document");
		t->decl[0] = ' ';  /* so "encoding" right after the target is preceded by a space */
		t->decl_len = 1;
	}
	if (b == '?')
		c->state = S_PI_QUESTION;
	else if (is_class(b, C_WS))
		c->state = S_PI_BODY;
	else
		return FAIL_HERE(t, c, "invalid character in processing instruction target");
	c->i++;
	return 0;
}

/* After a '?' in a PI: its end, or more of its body. */
static int pi_question(struct tok *t, struct cursor *c, unsigned char b)
{
	if (b == '>') {
		if (t->in_decl && check_declaration(t) < 0)
			return -1;
		t->in_decl = false;
		c->i++;
		return markup_done(t, c, t->ret);
	}
	/* the '?' seen was part of the body */
	if (decl_append(t, (const unsigned char *)"?", 1) < 0)
		return -1;
	if (b != '?')
		c->state = S_PI_BODY;
	else
		c->i++;
	return 0;
}

static int pi(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	if (c->state == S_PI_TARGET) {
		if (!is_class(b, t->name_len == 0 ? C_NAME_START : C_NAME))
			return end_pi_target(t, c, b);
		if (t->name_len == NAME_MAX_LEN)
			return FAIL_HERE(t, c, "name longer than %d bytes", NAME_MAX_LEN);
		if (t->name_len < sizeof t->pi_target)
			t->pi_target[t->name_len] = (char)b;
		t->name_len++;
		c->i++;
		return 0;
	}
	if (c->state == S_PI_QUESTION)
		return pi_question(t, c, b);
	size_t from = c->i;
	bool found = skip_to(c, '?');
	if (found)
		c->state = S_PI_QUESTION;
	return decl_append(t, c->buf + from, c->i - from - (found ? 1 : 0));
}

/* ---- tokenizer: references ---- */

static int fail_reference(struct tok *t)
{
	return tok_fail(t, t->ref_abs, "'&' must start a reference such as &amp; or &#38;");
}

static unsigned hex_value(unsigned char b)
{
	return b <= '9' ? (unsigned)(b - '0') : (unsigned)((b | 0x20) - 'a' + 10);
}

/* At the ';' of &name;. */
static int entity_reference_done(struct tok *t, struct cursor *c)
{
	c->i++;
	return markup_done(t, c, t->ret);
}

/* At the ';' of &#N; or &#xH;, the character's number in charref. */
static int char_reference_done(struct tok *t, struct cursor *c)
{
	if (t->charref == 0)
		return tok_fail(t, t->ref_abs, "character reference to U+0000");
	c->i++;
	return markup_done(t, c, t->ret);
}

/* A digit of &#N; or &#xH;, or its ';'. */
static int char_reference_digit(struct tok *t, struct cursor *c, unsigned char b)
{
	bool hex = c->state == S_CHARREF_HEX;
	if (b == ';')
		return char_reference_done(t, c);
	if (!is_class(b, hex ? C_HEX : C_DIGIT))
		return fail_reference(t);
	t->charref = t->charref * (hex ? 16u : 10u) + hex_value(b);
	if (t->charref > 0x10FFFF)
		return tok_fail(t, t->ref_abs, "character reference beyond U+10FFFF");
	c->i++;
	return 0;
}

static int reference(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	switch (c->state) {
	case S_REF_START:
		if (b == '#') {
			c->state = S_CHARREF;
		} else if (is_class(b, C_NAME_START)) {
			c->state = S_REF_NAME;
			t->name_len = 1;
		} else {
			return fail_reference(t);
		}
		break;
	case S_REF_NAME:
		if (b == ';')
			return entity_reference_done(t, c);
		if (!is_class(b, C_NAME))
			return fail_reference(t);
		if (t->name_len++ == NAME_MAX_LEN)
			return FAIL_HERE(t, c, "name longer than %d bytes", NAME_MAX_LEN);
		break;
	case S_CHARREF:  /* after "&#" */
		if (b == 'x') {
			c->state = S_CHARREF_HEX_START;
			break;
		}
		if (!is_class(b, C_DIGIT))
			return fail_reference(t);
		t->charref = hex_value(b);
		c->state = S_CHARREF_DEC;
		break;
	case S_CHARREF_HEX_START:
		if (!is_class(b, C_HEX))
			return fail_reference(t);
		t->charref = hex_value(b);
		c->state = S_CHARREF_HEX;
		break;
	default: /* S_CHARREF_DEC, S_CHARREF_HEX */
		return char_reference_digit(t, c, b);
	}
	c->i++;
	return 0;
}

/* ---- tokenizer: DOCTYPE, with its internal subset ---- */

/* In the DOCTYPE or one of its declarations, outside quotes. */
static int doctype_body(struct tok *t, struct cursor *c, unsigned char b)
{
	if (b == '"' || b == '\'') {
		t->quote = b;
		t->ret = c->state;
		c->state = S_DT_QUOTED;
	} else if (b == '<') {
		return FAIL_HERE(t, c, "'<' not allowed here in the DOCTYPE");
	} else if (b == '>' && c->state == S_DOCTYPE) {
		t->doctype_seen = true;
		c->i++;
		return markup_done(t, c, S_TEXT);
	} else if (b == '>' || (b == '[' && c->state == S_DOCTYPE)) {
		/* a declaration in the subset ended, or the subset begins */
		c->state = S_DT_SUBSET;
	}
	c->i++;
	return 0;
}

/* In the internal subset: "<!" or "<?" begins a declaration, ']' ends it. */
static int doctype_subset(struct tok *t, struct cursor *c, unsigned char b)
{
	switch (c->state) {
	case S_DT_SUBSET:
		if (b == '<') {
			t->tag_abs = c->abs + c->i;
			c->state = S_DT_LT;
		} else if (b == ']') {
			c->state = S_DT_AFTER_SUBSET;
		}
		break;
	case S_DT_LT:
		t->ret = S_DT_SUBSET;
		if (b == '!') {
			c->state = S_DT_BANG;
		} else if (b == '?') {
			c->state = S_PI_TARGET;
			t->name_len = 0;
		} else {
			return FAIL_HERE(t, c, "invalid markup in the DOCTYPE");
		}
		break;
	default: /* S_DT_BANG */
		if (b == '-')
			start_keyword(t, c, "-", S_COMMENT, "invalid comment, expected \"<!--\"");
		else
			c->state = S_DT_DECL;
		break;
	}
	c->i++;
	return 0;
}

static int doctype(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	switch (c->state) {
	case S_DT_QUOTED:
		if (skip_to(c, t->quote))
			c->state = t->ret;
		return 0;
	case S_DOCTYPE:
	case S_DT_DECL:
		return doctype_body(t, c, b);
	case S_DT_AFTER_SUBSET:
		if (b == '>') {
			t->doctype_seen = true;
			c->i++;
			return markup_done(t, c, S_TEXT);
		}
		if (!is_class(b, C_WS))
			return FAIL_HERE(t, c, "expected '>' after the DOCTYPE's internal subset");
		c->i++;
		return 0;
	default:
		return doctype_subset(t, c, b);
	}
}

/* ---- tokenizer: interface ---- */

/*
 * "<!", comments, CDATA sections, PIs, references and the DOCTYPE: rare
 * enough to stay out of the loop over text and tags (the compiler then
 * keeps that loop's own code apart, whatever changes here).
 */
__attribute__((noinline)) static int other_markup(struct tok *t, struct cursor *c)
{
	switch (c->state) {
	case S_BANG:
		return after_bang(t, c);
	case S_KEYWORD:
		return keyword(t, c);
	case S_COMMENT: case S_COMMENT_DASH: case S_COMMENT_DASH2:
		return comment(t, c);
	case S_CDATA: case S_CDATA_BRACKET: case S_CDATA_BRACKET2:
		return cdata(t, c);
	case S_PI_TARGET: case S_PI_BODY: case S_PI_QUESTION:
		return pi(t, c);
	case S_REF_START: case S_REF_NAME: case S_CHARREF: case S_CHARREF_DEC:
	case S_CHARREF_HEX_START: case S_CHARREF_HEX:
		return reference(t, c);
	default:
		return doctype(t, c);
	}
}

static int tok_step(struct tok *t, struct cursor *c)
{
	return in_content(c->state) ? content(t, c) : other_markup(t, c);
}

/* Reads the window's checked bytes, reporting events as it goes: 0, or -1 on an error. */
static int tok_read(struct tok *t)
{
	struct io *io = t->io;
	struct cursor c = { .buf = io->buf, .i = io->pos, .limit = io->checked, .abs = io->abs,
			    .state = t->state };
	int r = 0;
	while (r == 0 && c.i < c.limit)
		r = tok_step(t, &c);
	io->pos = c.i;
	t->state = c.state;
	return r;
}

/*
 * The first byte that an event may still report, which the window must keep
 * unwritten (NO_OFFSET if none): the '<' of a tag whose name is being read.
 */
static unsigned long long tok_keep_from(const struct tok *t)
{
	bool in_name = t->state == S_LT || t->state == S_START_NAME || t->state == S_END_NAME;
	return in_name ? t->tag_abs : NO_OFFSET;
}

/* At the end of the document: everything is closed, and there was a root. */
static int tok_finish(struct tok *t)
{
	struct io *io = t->io;
	unsigned long long at = io->abs + io->len;
	if (t->state == S_KEYWORD)
		t->state = t->keyword_next == S_TEXT ? S_LT : t->keyword_next;
	if (t->state != S_TEXT)
		return fail_at(io, at, "unexpected end of the document in %s", construct_name[t->state]);
	if (t->depth > 0) {
		size_t len;
		const char *name = top_name(t, &len);
		return fail_at(io, at, "unexpected end of the document: <%.*s> is not closed", shown(len), name);
	}
	if (!t->root_seen)
		return fail_at(io, at, "no root element");
	return 0;
}

/*
 * ---- splice: where the new elements go, and how their lines are laid out ----
 *
 * The fragments become the last children of the first <devices> child of
 * the root <domain>: inserted before its end tag, or, for <devices/>, in
 * place of the "/>"; without such a <devices>, one holding them is created
 * before </domain>.  Refused: a root that is not <domain>, and an empty
 * <domain/> (there is nowhere to put them).
 */

/* Whitespace that begins a line, used as the model for new lines. */
struct indent {
	size_t len;
	bool valid;
	char s[2 * INDENT_MAX];
};

struct splice {
	struct io *io;
	const char *const *fragments;
	size_t nfragments;
	struct xmlpatch_result *result;

	/* The text since the last newline, in the content followed: outside
	 * the root, directly inside <domain> and the target <devices>. */
	bool line_start;                 /* only whitespace since the newline */
	struct indent ws;                /* that whitespace */

	bool devices_seen;               /* the first <devices> child of <domain> was found */
	bool in_target;                  /* inside it, from its start tag on */
	bool inserted;
	bool domain_nl, devices_nl;      /* text directly inside held a newline */
	bool unit_known;
	struct indent root_indent, domain_child, devices_indent, devices_child, unit;
};

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

/* out = child minus base, when base is a proper prefix of child. */
static bool indent_suffix(const struct indent *child, const struct indent *base, struct indent *out)
{
	if (child->len <= base->len || memcmp(child->s, base->s, base->len) != 0)
		return false;
	indent_set(out, child->s + base->len, child->len - base->len);
	return true;
}

/* Whether the text before the tag just reported begins a line, and its whitespace. */
static void take_indent(struct indent *to, const struct splice *s)
{
	indent_set(to, s->ws.s, s->ws.len);
	to->valid = s->line_start;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* ---- splice: following the document ---- */

static void follow_text(struct splice *s, const struct tok_event *ev)
{
	bool *newline_seen = NULL;
	if (ev->depth == 1)
		newline_seen = &s->domain_nl;
	else if (ev->depth == 2 && s->in_target)
		newline_seen = &s->devices_nl;
	else if (ev->depth != 0)
		return;
	for (size_t i = 0; i < ev->text_len; i++) {
		unsigned char c = ev->text[i];
		if (c == '\n') {
			s->line_start = true;
			s->ws.len = 0;
			if (newline_seen)
				*newline_seen = true;
		} else if (c == ' ' || c == '\t') {
			if (s->ws.len < INDENT_MAX)
				s->ws.s[s->ws.len++] = (char)c;
			else
				s->line_start = false;
		} else if (c != '\r') {
			s->line_start = false;
		}
	}
}

/* The indentation unit, from the first child of <domain> that begins a line. */
static void learn_unit(struct splice *s)
{
	s->unit_known = true;
	if (s->root_indent.valid && indent_suffix(&s->domain_child, &s->root_indent, &s->unit))
		return;
	if (s->domain_child.len > 0 && s->domain_child.s[0] == '\t')
		indent_set(&s->unit, "\t", 1);
}

static void domain_child_starts(struct splice *s, const struct tok_event *ev)
{
	if (s->line_start) {
		take_indent(&s->domain_child, s);
		if (!s->unit_known)
			learn_unit(s);
	}
	if (!s->devices_seen && name_is(ev->name, ev->name_len, "devices")) {
		s->devices_seen = true;
		s->in_target = true;
		take_indent(&s->devices_indent, s);
	}
}

static int element_starts(struct splice *s, const struct tok_event *ev)
{
	if (ev->depth == 1) {
		if (!name_is(ev->name, ev->name_len, "domain"))
			return fail_at(s->io, ev->at, "root element is <%.*s>, not <domain>", shown(ev->name_len),
				       ev->name);
		take_indent(&s->root_indent, s);
	} else if (ev->depth == 2) {
		domain_child_starts(s, ev);
	} else if (ev->depth == 3 && s->in_target && s->line_start) {
		take_indent(&s->devices_child, s);
	}
	return 0;
}

static int insert_before_end_tag(struct splice *s, unsigned long long at, enum xmlpatch_mode mode);
static int expand_devices(struct splice *s, unsigned long long at);

static int element_ends(struct splice *s, const struct tok_event *ev)
{
	if (ev->depth == 2 && s->in_target) {
		s->in_target = false;
		return ev->empty ? expand_devices(s, ev->at) : insert_before_end_tag(s, ev->at, XMLPATCH_INSERTED);
	}
	if (ev->depth == 1 && !ev->empty && !s->devices_seen)
		return insert_before_end_tag(s, ev->at, XMLPATCH_CREATED);
	return 0;
}

static int splice_event(struct splice *s, const struct tok_event *ev)
{
	int r = 0;
	if (ev->kind == TOK_TEXT) {
		follow_text(s, ev);
		return 0;
	}
	if (ev->kind == TOK_START)
		r = element_starts(s, ev);
	else if (ev->kind == TOK_END)
		r = element_ends(s, ev);
	/* any markup: what follows does not begin a line */
	s->line_start = false;
	s->ws.len = 0;
	return r;
}

/*
 * How deep the events it needs go: <domain> and its children, and inside
 * the target <devices> its children too.
 */
static size_t splice_depth(const struct splice *s)
{
	return s->in_target ? 3 : 2;
}

static int splice_finish(struct splice *s)
{
	if (!s->inserted)
		return fail_at(s->io, s->io->abs + s->io->len, "the <domain> element is empty");
	return 0;
}

/* ---- splice: layout of the inserted text ---- */

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
 * The one rule for indenting a new child of an element: like the element's
 * last child that begins a line, else one unit deeper than the element; the
 * unit is that child's indentation beyond the element's, else the
 * document's.  It places the new children of <devices>, and a created
 * <devices> in <domain> (whose children are one unit deeper still).
 */
static void place_child(const struct splice *s, const struct indent *parent, const struct indent *last_child,
			struct layout *lay)
{
	if (!last_child->valid || !indent_suffix(last_child, parent, &lay->unit))
		lay->unit = s->unit;
	if (last_child->valid)
		lay->child = *last_child;
	else
		indent_join(&lay->child, parent, &lay->unit);
}

/*
 * Lines added at the end of an element's content, right before its end tag.
 * closing: whitespace before the end tag if it begins a line; open:
 * indentation of the start tag; last_child: of its last child element that
 * begins a line.
 */
static struct layout layout_before_end_tag(const struct splice *s, bool multiline, const struct indent *closing,
					   const struct indent *open, const struct indent *last_child)
{
	struct layout lay = { .multiline = multiline };
	struct indent parent = { 0 };
	if (closing->valid)
		parent = *closing;
	else if (open->valid)
		parent = *open;
	place_child(s, &parent, last_child, &lay);
	if (closing->valid) {
		/* the end tag's own indentation is written already */
		struct indent pad = { 0 };
		if (indent_suffix(&lay.child, &parent, &pad))
			lay.lead = pad;
		lay.trail_newline = true;
		lay.trail = *closing;
	} else {
		lay.lead_newline = true;
	}
	return lay;
}

/* Lines in place of the "/>" of <devices/>, between a new '>' and "</devices". */
static struct layout layout_expanded(const struct splice *s)
{
	static const struct indent no_child = { 0 };
	struct layout lay = { .multiline = s->devices_indent.valid && s->io->newline,
			      .lead_newline = true, .trail_newline = true, .trail = s->devices_indent };
	place_child(s, &s->devices_indent, &no_child, &lay);
	return lay;
}

static int emit_line(struct io *io, const struct layout *lay, bool first, size_t level, size_t spaces,
		     const char *text, size_t n)
{
	if (lay->multiline) {
		if (first && !lay->lead_newline) {
			if (emit(io, lay->lead.s, lay->lead.len) < 0)
				return -1;
		} else if (emit_str(io, io->newline) < 0 || emit(io, lay->child.s, lay->child.len) < 0) {
			return -1;
		}
		for (size_t i = 0; i < level; i++)
			if (emit(io, lay->unit.s, lay->unit.len) < 0)
				return -1;
		for (size_t i = 0; i < spaces; i++)
			if (emit(io, " ", 1) < 0)
				return -1;
	}
	return emit(io, text, n);
}

/* Emits one fragment, each line re-indented (two spaces a level) and shift levels deeper. */
static int emit_fragment(struct io *io, const struct layout *lay, const char *s, size_t shift, bool *first)
{
	while (*s) {
		const char *eol = strchr(s, '\n');
		size_t n = eol ? (size_t)(eol - s) : strlen(s), lead = 0;
		while (lead < n && s[lead] == ' ')
			lead++;
		if (lead < n) {
			if (emit_line(io, lay, *first, shift + lead / 2, lead % 2, s + lead, n - lead) < 0)
				return -1;
			*first = false;
		}
		s += eol ? n + 1 : n;
	}
	return 0;
}

/* Emits the fragments; wrapped in a new <devices> when wrap. */
static int emit_fragments(const struct splice *s, const struct layout *lay, bool wrap)
{
	struct io *io = s->io;
	bool first = true;
	if (wrap) {
		if (emit_line(io, lay, true, 0, 0, "<devices>", 9) < 0)
			return -1;
		first = false;
	}
	for (size_t f = 0; f < s->nfragments; f++)
		if (emit_fragment(io, lay, s->fragments[f], wrap ? 1 : 0, &first) < 0)
			return -1;
	if (wrap && emit_line(io, lay, false, 0, 0, "</devices>", 10) < 0)
		return -1;
	if (lay->multiline && lay->trail_newline &&
	    (emit_str(io, io->newline) < 0 || emit(io, lay->trail.s, lay->trail.len) < 0))
		return -1;
	return 0;
}

static void set_result(struct splice *s, enum xmlpatch_mode mode, unsigned long long offset,
		       unsigned long long length)
{
	s->inserted = true;
	if (s->result) {
		s->result->mode = mode;
		s->result->insert_offset = offset;
		s->result->insert_length = length;
	}
}

/* At the '<' of </devices> (INSERTED) or of </domain> (CREATED), document offset at. */
static int insert_before_end_tag(struct splice *s, unsigned long long at, enum xmlpatch_mode mode)
{
	bool created = mode == XMLPATCH_CREATED;
	struct indent closing;
	take_indent(&closing, s);
	struct layout lay = created
		? layout_before_end_tag(s, s->domain_nl, &closing, &s->root_indent, &s->domain_child)
		: layout_before_end_tag(s, s->devices_nl, &closing, &s->devices_indent, &s->devices_child);
	if (copy_to(s->io, at) < 0)
		return -1;
	s->io->emitted = 0;
	if (s->nfragments > 0 && (emit_fragments(s, &lay, created) < 0 || emit_flush(s->io) < 0))
		return -1;
	set_result(s, mode, at, s->io->emitted);
	return 0;
}

/* At the '/' of <devices/>, document offset at: writes ">...</devices"; the '>' follows from the input. */
static int expand_devices(struct splice *s, unsigned long long at)
{
	if (s->nfragments == 0) {
		set_result(s, XMLPATCH_EXPANDED, at, 2);
		return 0;
	}
	struct layout lay = layout_expanded(s);
	if (copy_to(s->io, at) < 0)
		return -1;
	drop_to(s->io, at + 1);
	s->io->emitted = 0;
	if (emit(s->io, ">", 1) < 0 || emit_fragments(s, &lay, false) < 0 || emit_str(s->io, "</devices") < 0 ||
	    emit_flush(s->io) < 0)
		return -1;
	set_result(s, XMLPATCH_EXPANDED, at, s->io->emitted + 1);
	return 0;
}

/* ---- driving it all ---- */

/* The tokenizer and the splice it reports to. */
struct pipeline {
	struct tok tok;
	struct splice splice;
};

/* The tokenizer's sink: the splice, which then says how deep to look on. */
static int deliver(void *sink, const struct tok_event *ev)
{
	struct pipeline *p = sink;
	if (splice_event(&p->splice, ev) < 0)
		return -1;
	p->tok.report_depth = splice_depth(&p->splice);
	return 0;
}

/* Reads the document through the tokenizer, refilling the window as it is read. */
static int run(struct pipeline *p)
{
	struct io *io = p->tok.io;
	for (;;) {
		if (tok_read(&p->tok) < 0)
			return -1;
		if (io->bad != NONE)
			return fail_invalid_byte(io);
		ssize_t got = refill(io, tok_keep_from(&p->tok));
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		validate(io);
	}
	if (check_utf8_end(io) < 0 || tok_finish(&p->tok) < 0 || splice_finish(&p->splice) < 0)
		return -1;
	return copy_to(io, io->abs + io->len);
}

int xmlpatch_stream(const struct xmlpatch_input *in, int out_fd, const char *const *fragments, size_t n,
		    struct xmlpatch_result *result, struct xmlpatch_error *err)
{
	static const struct indent two_spaces = { .len = 2, .valid = true, .s = "  " };
	err->line = err->column = 0;
	err->message[0] = '\0';
	struct buffers *b = malloc(sizeof *b);
	struct io io = { .in_fd = in->fd, .out_fd = out_fd, .read = in->read ? in->read : read, .err = err,
			 .bad = NONE };
	if (!b)
		return fail_io(&io, "malloc");
	io.buf = b->window;
	io.stage = b->stage;
	struct pipeline p = {
		/* the start of the document begins a line */
		.splice = { .io = &io, .fragments = fragments, .nfragments = n, .result = result,
			    .line_start = true, .unit = two_spaces },
		.tok = { .io = &io, .report = deliver, .sink = &p, .state = S_TEXT, .names = b->names,
			 .name_lens = b->name_lens, .decl = b->decl },
	};
	p.tok.report_depth = splice_depth(&p.splice);
	int rc = run(&p);
	free(b);
	return rc;
}

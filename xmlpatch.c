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
	MAX_DEPTH = 257,      /* open elements: libxml2 2.9 refuses a 258th (without XML_PARSE_HUGE) */
	NAME_MAX_LEN = 256,   /* bytes in one name */
	NAME_BUF = 16 * 1024, /* bytes of all open element names together */
	INDENT_MAX = 128,     /* longer indentation is not used as a model */
	DECL_MAX = 256,       /* bytes of the XML declaration between "<?xml" and "?>" */
	ATTR_MAX = 64,        /* attributes in one start tag */
	ATTR_BUF = 4096,      /* bytes of the attribute names of one start tag */
	ENTITY_MAX = 64,      /* general entities declared in the internal subset */
	ENTITY_BUF = 4096,    /* bytes of their names */
	STAGE = 4096,         /* buffer for the inserted text */
	SLACK = 16,           /* bytes after the window and names that copy_short() may touch */
};

#define NONE ((size_t)-1)
#define NO_OFFSET (~0ull)

/* A name kept in a buffer: its key (name_key), offset and length; flags for an entity. */
struct name_ref {
	uint32_t key;
	unsigned short offset, len;
	unsigned char flags;
};

/* The patcher's memory, one allocation per document; none of it needs zeroing. */
struct buffers {
	unsigned char window[KEEP + CHUNK + SLACK];
	char names[NAME_BUF + SLACK];
	unsigned short name_lens[MAX_DEPTH];
	char decl[DECL_MAX];
	char name[NAME_MAX_LEN + SLACK];    /* a reference, PI target or declared name being read */
	char attr_names[ATTR_BUF + SLACK];
	struct name_ref attrs[ATTR_MAX];
	char entity_names[ENTITY_BUF];
	struct name_ref entities[ENTITY_MAX];
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

/* ---- io: the window over the document, the output, error positions ---- */

/* A UTF-8 character being read: what its next byte may be. */
struct utf8 {
	unsigned need;                   /* continuation bytes still expected */
	unsigned char lead, lo, hi;      /* its first byte; range allowed for the next one */
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

	/* buf[0, checked) is valid and ends with a whole character; buf[bad] is
	 * not valid (bad is NONE while all is) */
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
__attribute__((format(printf, 4, 0)))
static void vfail_at(struct io *io, enum xmlpatch_refusal kind, unsigned long long at, const char *fmt, va_list ap)
{
	struct xmlpatch_error *e = io->err;
	e->kind = kind;
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

__attribute__((format(printf, 4, 5)))
static int refuse_at(struct io *io, enum xmlpatch_refusal kind, unsigned long long at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(io, kind, at, fmt, ap);
	va_end(ap);
	return -1;
}

/* Not well formed; past a limit of the patcher, or a feature it does not support. */
#define fail_at(io, ...) refuse_at((io), XMLPATCH_MALFORMED, __VA_ARGS__)
#define limit_at(io, ...) refuse_at((io), XMLPATCH_LIMIT, __VA_ARGS__)

static int fail_io(struct io *io, const char *what)
{
	io->err->kind = XMLPATCH_IO;
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
			/* Not a name character: the tokenizer's loop over names needs no
			 * bound.  Nor is the byte at checked when it is below len: the
			 * start of a cut character, or an invalid byte. */
			io->buf[io->len] = 0;
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
	u->lead = c;
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

/*
 * Validates buf[checked, len): characters XML allows, in UTF-8 (so not
 * U+FFFE, U+FFFF).  Stops before a character cut by the end of the window
 * (read again with the next chunk), and at an invalid byte (bad).
 */
static void validate(struct io *io)
{
	struct utf8 *u = &io->utf8;
	size_t i = io->checked, end = io->len, start = i;
	while (i < end) {
		if (u->need == 0) {
			i += printable_ascii_span(io->buf + i, end - i);
			if (i >= end)
				break;
			start = i;
		}
		unsigned char c = io->buf[i];
		if (u->need > 0) {
			if (c < u->lo || c > u->hi)
				break;
			u->need--;
			u->lo = 0x80;
			/* EF BF BE and EF BF BF are U+FFFE and U+FFFF */
			u->hi = u->need == 1 && u->lead == 0xEF && c == 0xBF ? 0xBD : 0xBF;
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
	io->bad = i < end ? i : NONE;
	io->checked = u->need > 0 ? start : i;
	u->need = 0;
}

/* after_root: between markup after the root element, where libxml2 takes a NUL byte for the end. */
static int fail_invalid_byte(struct io *io, bool after_root)
{
	io->checked = io->bad;  /* the bytes before it in its character, for locate() */
	unsigned long long at = io->abs + io->bad;
	unsigned char c = io->buf[io->bad];
	if ((at == 0 && (c == 0xFE || c == 0xFF)) || (at < 4 && c == 0))
		return limit_at(io, at, "document is not UTF-8 (UTF-16 or UTF-32?)");
	if (c == 0 && after_root)
		return limit_at(io, at, "NUL byte after the root element (not supported)");
	if (c < 0x20)
		return fail_at(io, at, "control character 0x%02X is not allowed in XML", c);
	if ((c == 0xBE || c == 0xBF) && io->bad >= 2 && io->buf[io->bad - 2] == 0xEF && io->buf[io->bad - 1] == 0xBF)
		return fail_at(io, at - 2, "character U+%s is not allowed in XML", c == 0xBE ? "FFFE" : "FFFF");
	return fail_at(io, at, "invalid UTF-8 (byte 0x%02X)", c);
}

static int check_utf8_end(struct io *io)
{
	if (io->checked == io->len)
		return 0;
	io->checked = io->len;
	return fail_at(io, io->abs + io->len, "invalid UTF-8 (truncated at the end of the document)");
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
 * What it checks (a failure is an error at line:column, with the reason),
 * to refuse what libxml2 2.9 refuses (XML 1.0 fifth edition, with
 * namespaces as libxml2 reads names):
 *  - structure: exactly one root element; before it an optional BOM, the
 *    XML declaration (first, if there is one), at most one DOCTYPE,
 *    comments, PIs and whitespace; after it comments, PIs and whitespace;
 *    no CDATA section and no end tag outside it
 *  - names: NameStartChar and NameChar of productions [4] and [4a], beyond
 *    ASCII too; element and attribute names that libxml2 reads whole as
 *    prefix:local (not "a:b:-")
 *  - tags: every end tag names the element it closes; attributes
 *    name="value" or name='value' after whitespace, no '<' in a value, no
 *    name twice in one tag; "/>" closes an empty element
 *  - text: no "]]>"
 *  - references, in text and attribute values: &#N; and &#xH; to a
 *    character XML allows (production [2]: not U+0, U+1 to U+1F but tab, LF
 *    and CR, surrogates, U+FFFE, U+FFFF); &name; to one of the five
 *    predefined entities or one declared in the internal subset, whose
 *    replacement text may stand there (no '<' in an attribute value, no
 *    "]]>" in text)
 *  - comments have no "--" inside; CDATA sections are closed; a PI has a
 *    target, not "xml" in any case but for the declaration, and whitespace
 *    after it unless "?>" follows
 *  - the XML declaration: version="1.x", then encoding (UTF-8 only), then
 *    standalone="yes" or "no", with the whitespace libxml2 needs
 *  - the DOCTYPE: a name, an optional SYSTEM or PUBLIC literal (a public
 *    identifier of PubidChars), an internal subset of whitespace,
 *    comments, PIs and <!ENTITY name "value"> declarations, whose values
 *    hold no '%' and only well-formed references
 *  - nesting: more than 257 levels of elements (libxml2 2.9's limit without
 *    XML_PARSE_HUGE)
 * UTF-8, the characters XML allows (not U+FFFE, U+FFFF) and control
 * characters are checked before it, by validate().
 *
 * Refused as limits, not as malformed (XMLPATCH_LIMIT), each past the
 * number given: names longer than 256 bytes, open element names longer than
 * 16,384 bytes in all, an XML declaration longer than 263 bytes (256 between
 * "<?xml" and "?>"), more than 64 attributes in one tag or more than 4,096
 * bytes of their names, more than 64 declared entities or more than 4,096
 * bytes of their names; in the internal
 * subset <!ELEMENT>, <!ATTLIST>, <!NOTATION>, parameter entities and their
 * references, external entities; references to entities whose replacement
 * text holds markup (libxml2 parses it as content); entities not declared
 * when an external DTD is named (it is never read).
 *
 * Not checked: namespaces beyond how names are read (libxml2 only warns
 * about undeclared prefixes); the size limits of libxml2 without
 * XML_PARSE_HUGE (tags, comments, PIs, CDATA sections of about 10 MB).
 */

enum state {
	S_TEXT,            /* character data, or whitespace outside the root */
	S_LT,              /* after '<' */
	S_BANG,            /* after "<!" */
	S_KEYWORD,         /* matching the rest of "<!--", "<![CDATA[", "<!DOCTYPE", a BOM */
	S_COMMENT, S_COMMENT_DASH, S_COMMENT_DASH2,
	S_CDATA, S_CDATA_BRACKET, S_CDATA_BRACKET2,
	S_PI_TARGET, S_PI_BODY, S_PI_QUESTION,
	S_PI_END,          /* after "<?target?": only '>' may follow */
	S_START_NAME,      /* element name in a start tag */
	S_TAG_WS,          /* whitespace inside a start tag */
	S_ATTR_NAME, S_ATTR_BEFORE_EQ, S_ATTR_AFTER_EQ, S_ATTR_VALUE,
	S_TAG_DELIM,       /* after the element name or an attribute value: whitespace, '>' or "/>" */
	S_EMPTY_SLASH,     /* after '/' of "/>" */
	S_END_NAME, S_END_WS,
	S_REF_START, S_REF_NAME, S_CHARREF, S_CHARREF_DEC, S_CHARREF_HEX_START, S_CHARREF_HEX,
	/* the DOCTYPE, from here to the end */
	S_DOCTYPE,         /* after "<!DOCTYPE": its name */
	S_DT_NAME, S_DT_AFTER_NAME,
	S_DT_ID_WS,        /* after SYSTEM or PUBLIC, before the literal */
	S_DT_PUBID, S_DT_PUBID_AFTER, S_DT_SYSTEM_LITERAL, S_DT_AFTER_ID,
	S_DT_SUBSET, S_DT_LT, S_DT_BANG, S_DT_DECL_KEYWORD,
	S_DT_ENTITY_WS, S_DT_ENTITY_NAME, S_DT_ENTITY_AFTER_NAME, S_DT_VALUE, S_DT_ENTITY_END,
	S_DT_AFTER_SUBSET,
};

/* What an unexpected end of the document was inside of, by state. */
static const char *const construct_name[] = {
	[S_LT] = "a tag", [S_BANG] = "a tag",
	[S_COMMENT] = "a comment", [S_COMMENT_DASH] = "a comment", [S_COMMENT_DASH2] = "a comment",
	[S_CDATA] = "a CDATA section", [S_CDATA_BRACKET] = "a CDATA section",
	[S_CDATA_BRACKET2] = "a CDATA section",
	[S_PI_TARGET] = "a processing instruction", [S_PI_BODY] = "a processing instruction",
	[S_PI_QUESTION] = "a processing instruction", [S_PI_END] = "a processing instruction",
	[S_START_NAME] = "a tag", [S_TAG_WS] = "a tag", [S_ATTR_NAME] = "a tag",
	[S_ATTR_BEFORE_EQ] = "a tag", [S_ATTR_AFTER_EQ] = "a tag",
	[S_ATTR_VALUE] = "an attribute value", [S_TAG_DELIM] = "a tag",
	[S_EMPTY_SLASH] = "a tag", [S_END_NAME] = "a tag", [S_END_WS] = "a tag",
	[S_REF_START] = "a reference", [S_REF_NAME] = "a reference", [S_CHARREF] = "a reference",
	[S_CHARREF_DEC] = "a reference", [S_CHARREF_HEX_START] = "a reference",
	[S_CHARREF_HEX] = "a reference",
	[S_DOCTYPE ... S_DT_AFTER_SUBSET] = "the DOCTYPE",
};

/* C_PLAIN: a name character other than ':' (which take_name() looks at alone) */
enum { C_WS = 1, C_NAME_START = 2, C_NAME = 4, C_DIGIT = 8, C_HEX = 16, C_COLON = 32, C_PLAIN = 64 };
#define NS (C_NAME_START | C_NAME | C_PLAIN)
/* ASCII only: name characters beyond it are told by name_char_len(). */
static const unsigned char char_class[256] = {
	['\t'] = C_WS, ['\n'] = C_WS, ['\r'] = C_WS, [' '] = C_WS,
	['-'] = C_NAME | C_PLAIN, ['.'] = C_NAME | C_PLAIN, [':'] = C_NAME_START | C_NAME | C_COLON, ['_'] = NS,
	['0' ... '9'] = C_NAME | C_PLAIN | C_DIGIT | C_HEX,
	['A' ... 'F'] = NS | C_HEX, ['G' ... 'Z'] = NS,
	['a' ... 'f'] = NS | C_HEX, ['g' ... 'z'] = NS,
};
#undef NS

/* PubidChar, production [13], but for the quotes */
static bool is_pubid_char(unsigned char b)
{
	return b == ' ' || b == '\r' || b == '\n' || (b < 0x80 && (char_class[b] & (C_DIGIT | C_NAME_START)) && b != ':') ||
	       (b && strchr("-'()+,./:=?;!*#@$_%", b));
}

static inline bool is_class(unsigned char c, unsigned cls)
{
	return (char_class[c] & cls) != 0;
}

/* The code point of the whole, valid UTF-8 character at s, of *len bytes. */
static uint32_t decode_utf8(const unsigned char *s, size_t *len)
{
	if (s[0] < 0xE0) {
		*len = 2;
		return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (s[0] < 0xF0) {
		*len = 3;
		return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	*len = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
	       (s[3] & 0x3F);
}

/* NameStartChar beyond ASCII, XML 1.0 fifth edition, production [4]. */
static bool is_name_start_code(uint32_t c)
{
	return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
	       (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) || c == 0x200C || c == 0x200D ||
	       (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
	       (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

/* Bytes of the name character beyond ASCII at s, or 0; production [4a] unless start. */
__attribute__((noinline)) static size_t name_char_len_utf8(const unsigned char *s, bool start)
{
	size_t len;
	uint32_t c = decode_utf8(s, &len);
	if (is_name_start_code(c))
		return len;
	bool inner = c == 0xB7 || (c >= 0x300 && c <= 0x36F) || c == 0x203F || c == 0x2040;
	return !start && inner ? len : 0;
}

/*
 * Bytes of the name character at s (a whole character: validate() stops
 * before a cut one), or 0 if it is not one; start: a NameStartChar.
 */
static inline size_t name_char_len(const unsigned char *s, bool start)
{
	if (s[0] < 0x80)
		return is_class(s[0], start ? C_NAME_START : C_NAME);
	return name_char_len_utf8(s, start);
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
	unsigned long long name_abs;     /* offset of a declared entity's name */
	size_t name_len;                 /* bytes of the name read so far */
	unsigned name_classes;           /* C_COLON when it has a ':' */
	char *name;                      /* a reference, PI target or declared name: NAME_MAX_LEN bytes */
	unsigned char quote;
	const char *keyword, *keyword_error;
	enum state keyword_next;
	unsigned long charref;
	unsigned brackets;               /* ']' just before, in text or an entity value (at most 2) */

	/* the attributes of the start tag being read */
	char *attr_names;
	struct name_ref *attrs;
	size_t attr_count, attr_used;
	uint64_t attr_bits;              /* a bit for each attribute's key */

	/* before the root */
	bool in_decl;                    /* the PI being read is the XML declaration */
	char *decl;
	size_t decl_len, bom_len;
	bool root_seen, doctype_seen;
	bool standalone;                 /* standalone="yes" */
	bool external_dtd;               /* the DOCTYPE names an external subset (never read) */
	bool public_id;                  /* the external ID being read is PUBLIC */

	/* general entities declared in the internal subset */
	char *entity_names;
	struct name_ref *entities;
	size_t entity_count, entity_used;
	size_t entity_new;               /* the one whose value is being read, or NONE */
	unsigned char value_flags;       /* of that value, so far */
};

/* What an entity's replacement text holds. */
enum { ENT_LT = 1, ENT_AMP = 2, ENT_CDATA_END = 4 };

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

#define tok_fail(t, ...) fail_at((t)->io, __VA_ARGS__)
#define tok_limit(t, ...) limit_at((t)->io, __VA_ARGS__)

/* An error at the byte the cursor is at. */
#define FAIL_HERE(t, c, ...) tok_fail((t), (c)->abs + (c)->i, __VA_ARGS__)
#define FAIL_HERE_LIMIT(t, c, ...) tok_limit((t), (c)->abs + (c)->i, __VA_ARGS__)

static int shown(size_t len)
{
	return (int)(len < 40 ? len : 40);
}

/*
 * Copies n bytes in blocks of 16: reads and writes up to 16 more, which the
 * window and the name buffers have room for (SLACK).
 */
static inline void copy_short(char *restrict to, const unsigned char *restrict from, size_t n)
{
	memcpy(to, from, 16);
	for (size_t j = 16; j < n; j += 16)
		memcpy(to + j, from + j, 16);
}

/*
 * Appends the name characters at the cursor to name[*len, max), the first
 * of the name a NameStartChar: 1 when the name ended (the cursor on the
 * character after it; *len is 0 if there was none), 0 when the window
 * ended, -1 when the next character does not fit (the cursor on it).
 * *classes gets C_COLON when there is a ':'.  Inlined in the
 * loop over tags: element and attribute names are most of a tag.
 */
/* Inlined where speed matters more than size. */
#ifdef __OPTIMIZE_SIZE__
#define HOT_INLINE static inline
#else
#define HOT_INLINE static inline __attribute__((always_inline))
#endif

HOT_INLINE int take_name_classes(struct cursor *restrict c, char *restrict name, size_t *restrict len,
								    size_t max, unsigned *classes, bool start_checked)
{
	const unsigned char *buf = c->buf;
	size_t i = c->i, n = *len, limit = c->limit;
	int r;
	if (!start_checked && n == 0 && i < limit && buf[i] < 0x80 && !is_class(buf[i], C_NAME_START)) {
		r = 1;
		goto done;
	}
	for (;;) {
		/* a run of ASCII name characters but ':', which ends by limit (see refill()) */
		size_t from = i;
		while (is_class(buf[i], C_PLAIN))
			i++;
		if (i - from > max - n) {
			i = from + (max - n);
			r = -1;
			break;
		}
		copy_short(name + n, buf + from, i - from);
		n += i - from;
		if (i == limit) {
			r = 0;
			break;
		}
		unsigned char b = buf[i];
		if (b < 0x80 && b != ':') {
			r = 1;
			break;
		}
		size_t k = b == ':' ? 1 : name_char_len_utf8(buf + i, n == 0);
		if (k == 0 || k > max - n) {
			r = k == 0 ? 1 : -1;
			break;
		}
		*classes |= b == ':' ? C_COLON : 0;
		memcpy(name + n, buf + i, k);
		n += k;
		i += k;
	}
done:
	c->i = i;
	*len = n;
	return r;
}

static int take_name(struct cursor *c, char *name, size_t *len, size_t max)
{
	unsigned classes = 0;
	return take_name_classes(c, name, len, max, &classes, false);
}

/* Told apart by length, first and last byte; equal keys are compared in full. */
static uint32_t name_key(const char *s, size_t n)
{
	return (uint32_t)n | (uint32_t)(unsigned char)s[0] << 16 | (uint32_t)(unsigned char)s[n - 1] << 24;
}

/* Index of name[0, len) among refs[0, count) (kept in buf), or NONE. */
static size_t find_name(const struct name_ref *refs, size_t count, const char *buf, const char *name, size_t len,
			uint32_t key)
{
	for (size_t i = 0; i < count; i++)
		if (refs[i].key == key && memcmp(buf + refs[i].offset, name, len) == 0)
			return i;
	return NONE;
}

/*
 * Whether libxml2, which reads element and attribute names as
 * prefix:local, reads all of the name: not when a second colon is followed
 * by a character that may only go inside a name ("a:b:-", "a:b:1").
 */
static bool qname_whole(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name, *end = s + len;
	const unsigned char *colon = memchr(s, ':', len);
	if (!colon || colon == s || colon + 1 == end || *++colon == ':' || !name_char_len(colon, true))
		return true;
	const unsigned char *second = memchr(colon, ':', (size_t)(end - colon));
	return !second || second + 1 == end || name_char_len(second + 1, true) > 0;
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

/* At a ']' in text, or at the first byte of text after one: "]]>" is not allowed. */
static int text_brackets(struct tok *t, struct cursor *c)
{
	for (; c->i < c->limit && c->buf[c->i] == ']'; c->i++)
		t->brackets += t->brackets < 2;
	if (c->i == c->limit)
		return 0;
	if (c->buf[c->i] == '>' && t->brackets == 2)
		return tok_fail(t, c->abs + c->i - 2, "\"]]>\" is not allowed in text");
	t->brackets = 0;
	return 0;
}

/* Character data inside the root, up to the next '<' or '&'. */
static int text(struct tok *t, struct cursor *c)
{
	size_t from = c->i;
	if (t->brackets && text_brackets(t, c) < 0)
		return -1;
	for (;;) {
		c->i += find_any3(c->buf + c->i, c->limit - c->i, '<', '&', ']');
		if (c->i == c->limit || c->buf[c->i] != ']')
			break;
		if (text_brackets(t, c) < 0)
			return -1;
	}
	int r = report_text(t, c, from);
	if (r < 0 || c->i == c->limit)
		return r;
	if (c->buf[c->i] == '<')
		return open_markup(t, c);
	open_reference(t, c, S_TEXT);
	return 0;
}

/* ---- tokenizer: start and end tags ---- */

/* The element name being read cannot grow: fails with the limit it reached. */
static int name_full(struct tok *t, const struct cursor *c)
{
	if (NAME_BUF - t->names_used >= NAME_MAX_LEN)
		return tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN);
	return tok_limit(t, c->abs + c->i, "open element names longer than %d bytes in all", NAME_BUF);
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

/* An element's name in its start tag, stored after the open elements' names. */
static int element_name(struct tok *t, struct cursor *c)
{
	size_t max = NAME_BUF - t->names_used;
	char *name = t->names + t->names_used;
	int r = take_name_classes(c, name, &t->name_len, max < NAME_MAX_LEN ? max : NAME_MAX_LEN, &t->name_classes,
				   true);
	if (r <= 0)
		return r < 0 ? name_full(t, c) : 0;
	if (t->name_len == 0)
		return FAIL_HERE(t, c, "invalid character after '<'");
	unsigned char b = c->buf[c->i];
	if (!is_class(b, C_WS) && b != '>' && b != '/')
		return FAIL_HERE(t, c, "invalid character in element name");
	if ((t->name_classes & C_COLON) && !qname_whole(name, t->name_len))
		return tok_fail(t, t->tag_abs, "element name %.*s is not a valid qualified name", shown(t->name_len),
				name);
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
	if (!name_char_len(c->buf + c->i, true))
		return tag_delimiter(t, c, "invalid character in tag");
	c->state = S_ATTR_NAME;
	t->name_len = 0;
	t->name_classes = 0;
	return 0;
}

/* The attribute whose name was just read, before the cursor: not one the tag has already. */
static int attribute_named(struct tok *t, const struct cursor *c)
{
	const char *name = t->attr_names + t->attr_used;
	size_t len = t->name_len;
	unsigned long long at = c->abs + c->i - len;
	if ((t->name_classes & C_COLON) && !qname_whole(name, len))
		return tok_fail(t, at, "attribute name %.*s is not a valid qualified name", shown(len), name);
	uint32_t key = name_key(name, len);
	/* a bit per key, so that most tags need not look at the names */
	uint64_t bit = 1ull << ((key ^ key >> 16 ^ key >> 24) & 63);
	if ((t->attr_bits & bit) && find_name(t->attrs, t->attr_count, t->attr_names, name, len, key) != NONE)
		return tok_fail(t, at, "duplicate attribute %.*s", shown(len), name);
	if (t->attr_count == ATTR_MAX)
		return tok_limit(t, at, "more than %d attributes in one tag", ATTR_MAX);
	t->attr_bits |= bit;
	t->attrs[t->attr_count++] = (struct name_ref){ .key = key, .offset = (unsigned short)t->attr_used,
						       .len = (unsigned short)len };
	t->attr_used += len;
	return 0;
}

/* An attribute's name, kept until the tag ends to find a duplicate. */
static int attribute_name(struct tok *t, struct cursor *c)
{
	size_t max = ATTR_BUF - t->attr_used;
	int r = take_name_classes(c, t->attr_names + t->attr_used, &t->name_len, max < NAME_MAX_LEN ? max : NAME_MAX_LEN,
				  &t->name_classes, true);
	if (r < 0 && max >= NAME_MAX_LEN)
		return tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN);
	if (r < 0)
		return tok_limit(t, c->abs + c->i - t->name_len, "attribute names longer than %d bytes in one tag",
				 ATTR_BUF);
	if (r == 0)
		return 0;
	c->state = S_ATTR_BEFORE_EQ;
	return attribute_named(t, c);
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
	/* a byte that differs may be inside a character: only then is it not a whole one */
	bool name_char = matched == len ? name_char_len(c->buf + i, false) > 0 : true;
	if (matched == 0 && !name_char_len(c->buf + i, true))
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
	if (is_class(b, C_NAME_START) || b >= 0x80) {
		/* element_name() reads it from its first character */
		c->i--;
		c->state = S_START_NAME;
		t->name_len = 0;
		t->name_classes = 0;
		t->attr_count = t->attr_used = 0;
		t->attr_bits = 0;
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

/*
 * The XML declaration, production [23]: version, then optionally encoding
 * (UTF-8 only) and standalone, as libxml2 reads it.  Its body (after the
 * target) is in decl[1, decl_len), decl[0] is the blank after the target.
 */
struct decl_reader {
	const char *s, *end;
};

static bool decl_blanks(struct decl_reader *d)
{
	const char *from = d->s;
	while (d->s < d->end && is_class((unsigned char)*d->s, C_WS))
		d->s++;
	return d->s > from;
}

static bool decl_word(struct decl_reader *d, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(d->end - d->s) < n || memcmp(d->s, word, n) != 0)
		return false;
	d->s += n;
	return true;
}

/* ="value" or ='value' after a keyword: the value, or NULL. */
static const char *decl_value(struct decl_reader *d, size_t *len)
{
	decl_blanks(d);
	if (!decl_word(d, "="))
		return NULL;
	decl_blanks(d);
	if (d->s == d->end || (*d->s != '"' && *d->s != '\''))
		return NULL;
	const char *value = d->s + 1, *close = memchr(value, *d->s, (size_t)(d->end - value));
	if (!close)
		return NULL;
	*len = (size_t)(close - value);
	d->s = close + 1;
	return value;
}

static bool is_version(const char *v, size_t n)
{
	if (n < 2 || v[0] != '1' || v[1] != '.')
		return false;
	for (size_t i = 2; i < n; i++)
		if (!is_class((unsigned char)v[i], C_DIGIT))
			return false;
	return true;
}

/* EncName, production [81]. */
static bool is_encoding_name(const char *v, size_t n)
{
	if (n == 0 || !is_class((unsigned char)v[0], C_NAME_START) || v[0] == ':' || v[0] == '_')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_class((unsigned char)v[i], C_NAME) && v[i] != '_')
			return false;
	return !memchr(v, ':', n);
}

static int check_declaration(struct tok *t)
{
	struct decl_reader d = { t->decl, t->decl + t->decl_len };
	size_t n;
	const char *v;
	decl_blanks(&d);
	if (!decl_word(&d, "version"))
		return tok_fail(t, t->tag_abs, "XML declaration without a version");
	if (!(v = decl_value(&d, &n)) || !is_version(v, n))
		return tok_fail(t, t->tag_abs, "XML declaration: version must be \"1.x\"");
	bool blank = decl_blanks(&d);
	if (d.s < d.end && decl_word(&d, "encoding")) {
		if (!blank)
			return tok_fail(t, t->tag_abs, "XML declaration: whitespace needed before encoding");
		if (!(v = decl_value(&d, &n)) || !is_encoding_name(v, n))
			return tok_fail(t, t->tag_abs, "XML declaration: invalid encoding");
		if (!((n == 5 && ascii_ieq(v, "utf-8", 5)) || (n == 4 && ascii_ieq(v, "utf8", 4))))
			return tok_limit(t, t->tag_abs, "document is not UTF-8 (encoding=\"%.*s\")", shown(n), v);
		blank = true;  /* libxml2 needs none between a UTF-8 encoding and standalone */
		decl_blanks(&d);
	}
	if (d.s < d.end && decl_word(&d, "standalone")) {
		if (!blank)
			return tok_fail(t, t->tag_abs, "XML declaration: whitespace needed before standalone");
		if (!(v = decl_value(&d, &n)) || !((n == 3 && memcmp(v, "yes", 3) == 0) || (n == 2 && memcmp(v, "no", 2) == 0)))
			return tok_fail(t, t->tag_abs, "XML declaration: standalone must be \"yes\" or \"no\"");
		t->standalone = n == 3;
		decl_blanks(&d);
	}
	if (d.s != d.end)
		return tok_fail(t, t->tag_abs, "XML declaration: unexpected text after its attributes");
	return 0;
}

static int decl_append(struct tok *t, const unsigned char *s, size_t n)
{
	if (!t->in_decl)
		return 0;
	if (n > DECL_MAX - t->decl_len)
		return tok_limit(t, t->tag_abs, "XML declaration longer than %d bytes",
				 DECL_MAX + (int)sizeof "<?xml?>" - 1);
	memcpy(t->decl + t->decl_len, s, n);
	t->decl_len += n;
	return 0;
}

/* The PI target just read, at the byte after it. */
static int end_pi_target(struct tok *t, struct cursor *c, unsigned char b)
{
	if (t->name_len == 0)
		return FAIL_HERE(t, c, "processing instruction without a target");
	bool xml = t->name_len == 3 && memcmp(t->name, "xml", 3) == 0;
	if (t->name_len == 3 && ascii_ieq(t->name, "xml", 3) && !xml)
		return tok_fail(t, t->tag_abs, "processing instruction target %.*s is reserved", 3, t->name);
	if (xml && (t->tag_abs != t->bom_len || t->ret != S_TEXT))
		return tok_fail(t, t->tag_abs, "XML declaration not at the start of the document");
	t->in_decl = xml;
	if (xml && !is_class(b, C_WS))
		return tok_fail(t, t->tag_abs, "XML declaration without a version");
	if (xml) {
		t->decl[0] = ' ';
		t->decl_len = 1;
	}
	if (b == '?')
		c->state = S_PI_END;
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
	if (c->state == S_PI_END)
		return FAIL_HERE(t, c, "expected whitespace after the processing instruction target");
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
		int r = take_name(c, t->name, &t->name_len, NAME_MAX_LEN);
		if (r < 0)
			return tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN);
		return r == 0 ? 0 : end_pi_target(t, c, c->buf[c->i]);
	}
	if (c->state != S_PI_BODY)
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

static bool is_predefined_entity(const char *name, size_t len)
{
	static const char *const predefined[] = { "lt", "gt", "amp", "apos", "quot" };
	for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++)
		if (strlen(predefined[i]) == len && memcmp(predefined[i], name, len) == 0)
			return true;
	return false;
}

/* Whether the entity &name; may stand where the reference is (t->ret says where). */
static int check_entity(struct tok *t, const char *name, size_t len)
{
	if (is_predefined_entity(name, len))
		return 0;
	size_t e = find_name(t->entities, t->entity_count, t->entity_names, name, len, name_key(name, len));
	if (e == NONE && t->external_dtd && !t->standalone)
		return tok_limit(t, t->ref_abs, "entity &%.*s; is not declared in the internal subset (the external DTD is not read)",
				 shown(len), name);
	if (e == NONE)
		return tok_fail(t, t->ref_abs, "undefined entity &%.*s;", shown(len), name);
	unsigned flags = t->entities[e].flags;
	bool in_attribute = t->ret == S_ATTR_VALUE;
	if (in_attribute && (flags & ENT_LT))
		return tok_fail(t, t->ref_abs, "entity &%.*s; holds '<', not allowed in an attribute value",
				shown(len), name);
	if (flags & ENT_AMP)
		return tok_limit(t, t->ref_abs, "entity &%.*s; refers to other entities (not supported)", shown(len), name);
	if (!in_attribute && (flags & ENT_LT))
		return tok_limit(t, t->ref_abs, "entity &%.*s; holds markup (not supported)", shown(len), name);
	if (!in_attribute && (flags & ENT_CDATA_END))
		return tok_fail(t, t->ref_abs, "entity &%.*s; holds \"]]>\", not allowed in text", shown(len), name);
	return 0;
}

/* A character of an entity's replacement text: what it holds. */
static void entity_value_char(struct tok *t, unsigned long ch)
{
	if (ch == '<')
		t->value_flags |= ENT_LT;
	else if (ch == '&')
		t->value_flags |= ENT_AMP;
	else if (ch == '>' && t->brackets == 2)
		t->value_flags |= ENT_CDATA_END;
	t->brackets = ch == ']' ? t->brackets + (t->brackets < 2) : 0;
}

/* At the ';' of &name;. */
static int entity_reference_done(struct tok *t, struct cursor *c)
{
	if (t->ret == S_DT_VALUE) {
		/* in an entity's value: left as it is, expanded where the entity is used */
		t->value_flags |= ENT_AMP;
		t->brackets = 0;
	} else if (check_entity(t, t->name, t->name_len) < 0) {
		return -1;
	}
	c->i++;
	return markup_done(t, c, t->ret);
}

/* Char, production [2]. */
static bool is_xml_char(unsigned long ch)
{
	return ch == 0x9 || ch == 0xA || ch == 0xD || (ch >= 0x20 && ch <= 0xD7FF) || (ch >= 0xE000 && ch <= 0xFFFD) ||
	       (ch >= 0x10000 && ch <= 0x10FFFF);
}

/* At the ';' of &#N; or &#xH;, the character's number in charref. */
static int char_reference_done(struct tok *t, struct cursor *c)
{
	if (!is_xml_char(t->charref))
		return tok_fail(t, t->ref_abs, "character reference to U+%04lX, which XML does not allow", t->charref);
	if (t->ret == S_DT_VALUE)
		entity_value_char(t, t->charref);
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
			break;
		}
		c->state = S_REF_NAME;
		t->name_len = 0;
		/* fall through */
	case S_REF_NAME: {
		int r = take_name(c, t->name, &t->name_len, NAME_MAX_LEN);
		if (r < 0)
			return tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN);
		if (r == 0)
			return 0;
		if (t->name_len == 0 || c->buf[c->i] != ';')
			return fail_reference(t);
		return entity_reference_done(t, c);
	}
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

/*
 * ---- tokenizer: DOCTYPE, with its internal subset ----
 *
 * <!DOCTYPE name (SYSTEM "uri" | PUBLIC "id" "uri")? [subset]? > where the
 * subset holds whitespace, comments, PIs and <!ENTITY name "value">
 * declarations of internal general entities.  Parameter entities, external
 * entities and <!ELEMENT>, <!ATTLIST>, <!NOTATION> are refused as not
 * supported: their grammar is left to libxml2.
 */

static bool skip_ws(struct cursor *c)
{
	c->i = skip_class(c->buf, c->i, c->limit, C_WS);
	return c->i < c->limit;
}

static void doctype_literal(struct tok *t, struct cursor *c, enum state literal)
{
	t->quote = c->buf[c->i++];
	c->state = literal;
}

/*
 * Whitespace that must be there (t->name_len says whether some was seen):
 * 1 at the first byte after it, 0 when the window ended, -1 without any.
 */
static int required_ws(struct tok *t, struct cursor *c, const char *error)
{
	if (!is_class(c->buf[c->i], C_WS) && t->name_len == 0)
		return FAIL_HERE(t, c, "%s", error);
	t->name_len = 1;
	return skip_ws(c) ? 1 : 0;
}

/* After required whitespace, a quoted literal read in state literal. */
static int quoted_after_ws(struct tok *t, struct cursor *c, enum state literal, const char *ws_error,
			   const char *quote_error)
{
	int r = required_ws(t, c, ws_error);
	if (r <= 0)
		return r;
	if (c->buf[c->i] != '"' && c->buf[c->i] != '\'')
		return FAIL_HERE(t, c, "%s", quote_error);
	doctype_literal(t, c, literal);
	return 0;
}

/* "]" ... ">" or ">": the DOCTYPE ends. */
static int doctype_done(struct tok *t, struct cursor *c)
{
	t->doctype_seen = true;
	c->i++;
	return markup_done(t, c, S_TEXT);
}

/* After the name or external ID: the subset, or the end. */
static int doctype_before_subset(struct tok *t, struct cursor *c, bool id_allowed)
{
	unsigned char b = c->buf[c->i];
	if (b == '[') {
		c->state = S_DT_SUBSET;
		c->i++;
		return 0;
	}
	if (b == '>')
		return doctype_done(t, c);
	if (id_allowed && (b == 'S' || b == 'P')) {
		t->public_id = b == 'P';
		t->external_dtd = true;
		t->name_len = 0;  /* no whitespace seen after the keyword yet */
		c->i++;
		start_keyword(t, c, b == 'S' ? "YSTEM" : "UBLIC", S_DT_ID_WS, "invalid DOCTYPE");
		return 0;
	}
	return FAIL_HERE(t, c, "invalid DOCTYPE");
}

/* The DOCTYPE's name, external ID and what follows the subset. */
static int doctype_head(struct tok *t, struct cursor *c)
{
	int r;
	switch (c->state) {
	case S_DOCTYPE:
		if (!skip_ws(c))
			return 0;
		c->state = S_DT_NAME;
		t->name_len = 0;
		/* fall through */
	case S_DT_NAME:
		r = take_name(c, t->name, &t->name_len, NAME_MAX_LEN);
		if (r <= 0)
			return r < 0 ? tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN) : 0;
		if (t->name_len == 0)
			return FAIL_HERE(t, c, "DOCTYPE without a name");
		c->state = S_DT_AFTER_NAME;
		/* fall through */
	case S_DT_AFTER_NAME:
		if (!skip_ws(c))
			return 0;
		return doctype_before_subset(t, c, true);
	case S_DT_ID_WS:
		return quoted_after_ws(t, c, t->public_id ? S_DT_PUBID : S_DT_SYSTEM_LITERAL,
				       "whitespace needed before the DOCTYPE's literal",
				       "quoted literal expected in the DOCTYPE");
	case S_DT_PUBID_AFTER:
		return quoted_after_ws(t, c, S_DT_SYSTEM_LITERAL, "whitespace needed after the public identifier",
				       "system literal expected after the public identifier");
	case S_DT_AFTER_ID:
		if (!skip_ws(c))
			return 0;
		return doctype_before_subset(t, c, false);
	default: /* S_DT_AFTER_SUBSET */
		if (!skip_ws(c))
			return 0;
		if (c->buf[c->i] != '>')
			return FAIL_HERE(t, c, "expected '>' after the DOCTYPE's internal subset");
		return doctype_done(t, c);
	}
}

/* A public identifier or system literal, up to its quote. */
static int doctype_literal_body(struct tok *t, struct cursor *c)
{
	bool pubid = c->state == S_DT_PUBID;
	for (; c->i < c->limit; c->i++) {
		unsigned char b = c->buf[c->i];
		if (b == t->quote) {
			c->i++;
			c->state = pubid ? S_DT_PUBID_AFTER : S_DT_AFTER_ID;
			t->name_len = 0;  /* no whitespace seen yet */
			return 0;
		}
		if (pubid && !is_pubid_char(b))
			return FAIL_HERE(t, c, "invalid character in the DOCTYPE's public identifier");
	}
	return 0;
}

/* The internal subset, between declarations. */
static int doctype_subset(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	switch (c->state) {
	case S_DT_SUBSET:
		if (!skip_ws(c))
			return 0;
		b = c->buf[c->i];
		if (b == ']') {
			c->state = S_DT_AFTER_SUBSET;
		} else if (b == '<') {
			t->tag_abs = c->abs + c->i;
			c->state = S_DT_LT;
		} else if (b == '%') {
			return FAIL_HERE_LIMIT(t, c, "parameter entity references in the DOCTYPE (not supported)");
		} else {
			return FAIL_HERE(t, c, "invalid character in the DOCTYPE's internal subset");
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
		if (b == '-') {
			start_keyword(t, c, "-", S_COMMENT, "invalid comment, expected \"<!--\"");
		} else {
			c->state = S_DT_DECL_KEYWORD;
			t->name_len = 0;
			return 0;
		}
		break;
	}
	c->i++;
	return 0;
}

/* The keyword after "<!" in the subset: ENTITY, or a declaration not supported. */
static int declaration_keyword(struct tok *t, struct cursor *c)
{
	for (; c->i < c->limit && c->buf[c->i] >= 'A' && c->buf[c->i] <= 'Z'; c->i++)
		if (t->name_len < 8)
			t->name[t->name_len++] = (char)c->buf[c->i];
	if (c->i == c->limit)
		return 0;
	size_t n = t->name_len;
	if (n == 6 && memcmp(t->name, "ENTITY", 6) == 0) {
		c->state = S_DT_ENTITY_WS;
		t->name_len = 0;
		return 0;
	}
	if ((n == 7 && (memcmp(t->name, "ELEMENT", 7) == 0 || memcmp(t->name, "ATTLIST", 7) == 0)) ||
	    (n == 8 && memcmp(t->name, "NOTATION", 8) == 0))
		return tok_limit(t, t->tag_abs, "<!%.*s declarations in the DOCTYPE (not supported)", (int)n, t->name);
	return tok_fail(t, t->tag_abs, "invalid markup in the DOCTYPE");
}

/* The entity just named gets a value: it is declared, unless it is already. */
static int declare_entity(struct tok *t)
{
	t->entity_new = NONE;
	const char *name = t->name;
	size_t len = t->name_len;
	uint32_t key = name_key(name, len);
	if (is_predefined_entity(name, len) ||
	    find_name(t->entities, t->entity_count, t->entity_names, name, len, key) != NONE)
		return 0;  /* the first declaration holds, as libxml2 has it */
	if (t->entity_count == ENTITY_MAX || len > ENTITY_BUF - t->entity_used)
		return tok_limit(t, t->name_abs, "more than %d entities, or %d bytes of their names, in the DOCTYPE",
				 ENTITY_MAX, ENTITY_BUF);
	memcpy(t->entity_names + t->entity_used, name, len);
	t->entity_new = t->entity_count;
	t->entities[t->entity_count++] = (struct name_ref){ .key = key, .offset = (unsigned short)t->entity_used,
							    .len = (unsigned short)len };
	t->entity_used += len;
	return 0;
}

/* <!ENTITY name "value">, from after the keyword to the value. */
static int entity_declaration(struct tok *t, struct cursor *c)
{
	if (c->state == S_DT_ENTITY_WS) {
		int r = required_ws(t, c, "whitespace needed after <!ENTITY");
		if (r <= 0)
			return r;
		if (c->buf[c->i] == '%')
			return FAIL_HERE_LIMIT(t, c, "parameter entities in the DOCTYPE (not supported)");
		c->state = S_DT_ENTITY_NAME;
		t->name_len = 0;
		t->name_abs = c->abs + c->i;
	}
	if (c->state == S_DT_ENTITY_NAME) {
		int r = take_name(c, t->name, &t->name_len, NAME_MAX_LEN);
		if (r <= 0)
			return r < 0 ? tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN) : 0;
		if (t->name_len == 0)
			return FAIL_HERE(t, c, "<!ENTITY without a name");
		if (!is_class(c->buf[c->i], C_WS))
			return FAIL_HERE(t, c, "whitespace needed after the entity's name");
		c->state = S_DT_ENTITY_AFTER_NAME;
	}
	if (!skip_ws(c))
		return 0;
	unsigned char b = c->buf[c->i];
	if (b == 'S' || b == 'P')
		return FAIL_HERE_LIMIT(t, c, "external entities (not supported)");
	if (b != '"' && b != '\'')
		return FAIL_HERE(t, c, "the entity's value must be quoted");
	if (declare_entity(t) < 0)
		return -1;
	t->value_flags = 0;
	t->brackets = 0;
	doctype_literal(t, c, S_DT_VALUE);
	return 0;
}

/* An entity's value, up to its quote; then what follows it up to '>'. */
static int entity_value(struct tok *t, struct cursor *c)
{
	if (c->state == S_DT_ENTITY_END) {
		if (!skip_ws(c))
			return 0;
		if (c->buf[c->i] != '>')
			return FAIL_HERE(t, c, "expected '>' after the entity's value");
		c->i++;
		c->state = S_DT_SUBSET;
		return 0;
	}
	for (; c->i < c->limit; c->i++) {
		unsigned char b = c->buf[c->i];
		if (b == t->quote) {
			if (t->entity_new != NONE)
				t->entities[t->entity_new].flags = t->value_flags;
			t->brackets = 0;
			c->state = S_DT_ENTITY_END;
			c->i++;
			return 0;
		}
		if (b == '%')
			return FAIL_HERE(t, c, "'%%' in an entity's value");
		if (b == '&') {
			open_reference(t, c, S_DT_VALUE);
			return 0;
		}
		entity_value_char(t, b);
	}
	return 0;
}

static int doctype(struct tok *t, struct cursor *c)
{
	switch (c->state) {
	case S_DT_PUBID:
	case S_DT_SYSTEM_LITERAL:
		return doctype_literal_body(t, c);
	case S_DT_SUBSET:
	case S_DT_LT:
	case S_DT_BANG:
		return doctype_subset(t, c);
	case S_DT_DECL_KEYWORD:
		return declaration_keyword(t, c);
	case S_DT_ENTITY_WS:
	case S_DT_ENTITY_NAME:
	case S_DT_ENTITY_AFTER_NAME:
		return entity_declaration(t, c);
	case S_DT_VALUE:
	case S_DT_ENTITY_END:
		return entity_value(t, c);
	default:
		return doctype_head(t, c);
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
	case S_PI_TARGET: case S_PI_BODY: case S_PI_QUESTION: case S_PI_END:
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

/* Between markup, after the root element. */
static bool tok_after_root(const struct tok *t)
{
	return t->root_seen && t->depth == 0 && t->state == S_TEXT;
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
		if (!name_is(ev->name, ev->name_len, "domain")) {
			fail_at(s->io, ev->at, "root element is <%.*s>, not <domain>", shown(ev->name_len), ev->name);
			s->io->err->kind = XMLPATCH_NOT_DOMAIN;
			return -1;
		}
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
	if (!s->inserted) {
		fail_at(s->io, s->io->abs + s->io->len, "the <domain> element is empty");
		s->io->err->kind = XMLPATCH_NOT_DOMAIN;
		return -1;
	}
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
	struct indent no_child;  /* not valid: the fields place_child() reads */
	no_child.valid = false;
	no_child.len = 0;
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
			return fail_invalid_byte(io, tok_after_root(&p->tok));
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
			    .line_start = true },
		.tok = { .io = &io, .report = deliver, .sink = &p, .state = S_TEXT, .names = b->names,
			 .name_lens = b->name_lens, .decl = b->decl, .name = b->name, .attr_names = b->attr_names,
			 .attrs = b->attrs, .entity_names = b->entity_names, .entities = b->entities,
			 .entity_new = NONE },
	};
	indent_set(&p.splice.unit, "  ", 2);  /* unless the document shows its own */
	p.tok.report_depth = splice_depth(&p.splice);
	int rc = run(&p);
	free(b);
	return rc;
}

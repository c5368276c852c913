/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xmltok.c: the XML patcher's tokenizer, with the DOCTYPE, which shares its
 * state.  See xmltok.h for how it is driven.
 *
 * A state machine in the manner of yxml: one state per place in the
 * grammar, one allocation (tok_new), resumable at any byte, so that any
 * construct may straddle chunks.  It reads io->buf[pos, checked) and hands
 * each event to a sink as it goes.  Of its caller it knows only that sink,
 * report_depth, how deep to report, and whether attributes are reported.
 *
 * What it checks is listed in xmltok.h.
 */
#include "xmltok.h"
#include "xmlchar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAX_DEPTH = 257,      /* open elements: libxml2 2.9 refuses a 258th (without XML_PARSE_HUGE) */
	NAME_MAX_LEN = 256,   /* bytes in one name */
	NAME_BUF = 16 * 1024, /* bytes of all open element names together */
	DECL_MAX = 256,       /* bytes of the XML declaration between "<?xml" and "?>" */
	ATTR_MAX = 64,        /* attributes in one start tag */
	ATTR_BUF = 4096,      /* bytes of the attribute names of one start tag */
	PLAIN_ATTR_MAX = 16,  /* attributes of a plain tag (plain_duplicate() compares each pair); more: the states */
	ENTITY_MAX = 64,      /* general entities declared in the internal subset */
	ENTITY_BUF = 4096,    /* bytes of their names */
};

/* A name kept in a buffer: its key (name_key), offset and length; flags for an entity. */
struct name_ref {
	uint32_t key;
	unsigned short offset, len;
	unsigned char flags;
};

/* An attribute of a plain tag (which is wholly in the window): where its name is, and its name_key(). */
struct plain_attr {
	uint32_t at, key;
};

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

/* Index of the first byte from buf[i] on, before end, not of class cls. */
static inline size_t skip_class(const unsigned char *buf, size_t i, size_t end, unsigned cls)
{
	while (i < end && is_class(buf[i], cls))
		i++;
	return i;
}

struct tok {
	struct io *io;
	tok_report_fn *report;
	void *sink;
	size_t report_depth;             /* set by the caller at any time */
	size_t end_depth;                /* END down to this depth: report_depth, or one less */
	bool report_attributes;          /* of the elements reported */
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
	unsigned char charref_utf8[4];   /* its character, reported in an attribute value */
	unsigned brackets;               /* ']' just before, in text or an entity value (at most 2) */

	/* the attributes of the start tag being read */
	char *attr_names;
	struct name_ref *attrs;
	struct plain_attr *plain_attrs;  /* of a plain tag, in place of attrs */
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
 * Inlined where speed matters more than size; kept out of line where size
 * matters, behind a test inlined where it is called (report_element()).
 */
#ifdef __OPTIMIZE_SIZE__
#define HOT_INLINE static inline
#define SIZE_NOINLINE __attribute__((noinline))
#else
#define HOT_INLINE static inline __attribute__((always_inline))
#define SIZE_NOINLINE
#endif

/*
 * Appends the name characters at the cursor to name[*len, max), the first
 * of the name a NameStartChar: 1 when the name ended (the cursor on the
 * character after it; *len is 0 if there was none), 0 when the window
 * ended, -1 when the next character does not fit (the cursor on it).
 * *classes gets C_COLON when there is a ':'.  Inlined in the
 * loop over tags: element and attribute names are most of a tag.
 */
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
		/* a run of ASCII name characters but ':', which ends by limit (see io_refill()) */
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
static inline __attribute__((always_inline)) uint32_t plain_key(const unsigned char *s, size_t n)
{
	return (uint32_t)n | (uint32_t)s[0] << 16 | (uint32_t)s[n - 1] << 24;
}

static uint32_t name_key(const char *s, size_t n)
{
	return plain_key((const unsigned char *)s, n);
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

/* ---- events ---- */

static inline __attribute__((always_inline)) const char *top_name(const struct tok *t, size_t *len)
{
	*len = t->name_lens[t->depth - 1];
	return t->names + t->names_used - *len;
}

SIZE_NOINLINE static int element_event(const struct tok *t, enum tok_event_kind kind, unsigned long long at,
					bool empty)
{
	size_t len;
	const char *name = top_name(t, &len);
	/* every field named: no zeroing of the rest */
	const struct tok_event ev = { .kind = kind, .empty = empty, .more = false, .unresolved = false,
				      .depth = t->depth, .name = name, .name_len = len, .at = at, .text = NULL,
				      .text_len = 0 };
	return t->report(t->sink, &ev);
}

SIZE_NOINLINE static int text_event(const struct tok *t, const unsigned char *text, size_t len)
{
	const struct tok_event ev = { .kind = TOK_TEXT, .empty = false, .more = false, .unresolved = false,
				      .depth = t->depth, .name = NULL, .name_len = 0, .at = 0, .text = text,
				      .text_len = len };
	return t->report(t->sink, &ev);
}

/* START or END of the innermost open element, if it is within report_depth (END: end_depth). */
static inline __attribute__((always_inline)) int report_element(const struct tok *t, enum tok_event_kind kind,
								 unsigned long long at, bool empty)
{
	return t->depth > (kind == TOK_END ? t->end_depth : t->report_depth) ? 0 : element_event(t, kind, at, empty);
}

/* TEXT of buf[from, i), if there is any and it is in content reported. */
static inline __attribute__((always_inline)) int report_text(const struct tok *t, const struct cursor *c,
							      size_t from)
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

/* Whether the attributes of the element just opened are reported. */
static inline bool attributes_reported(const struct tok *t)
{
	return t->report_attributes && t->depth <= t->report_depth;
}

/* A piece of the value of the tag's last attribute read. */
static int attribute_piece(const struct tok *t, const void *text, size_t len, bool more, bool unresolved)
{
	const struct name_ref *a = &t->attrs[t->attr_count - 1];
	const struct tok_event ev = { .kind = TOK_ATTR, .depth = t->depth, .name = t->attr_names + a->offset,
				      .name_len = a->len, .text = text, .text_len = len, .more = more,
				      .unresolved = unresolved };
	return t->report(t->sink, &ev);
}

/* ---- text ---- */

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

/* ---- start and end tags ---- */

/* The element name being read cannot grow: fails with the limit it reached. */
static int name_full(struct tok *t, const struct cursor *c)
{
	if (NAME_BUF - t->names_used >= NAME_MAX_LEN)
		return tok_limit(t, c->abs + c->i, "name longer than %d bytes", NAME_MAX_LEN);
	return tok_limit(t, c->abs + c->i, "open element names longer than %d bytes in all", NAME_BUF);
}

/* The element whose name was just read cannot open: a second root, or one too deep. */
__attribute__((noinline)) static int open_refused(struct tok *t)
{
	const char *name = t->names + t->names_used;
	if (t->depth == 0)
		return tok_fail(t, t->tag_abs, "second root element <%.*s>", shown(t->name_len), name);
	return tok_fail(t, t->tag_abs, "elements nested more than %d deep", MAX_DEPTH);
}

/* The element whose name was just read is open. */
static inline __attribute__((always_inline)) int open_element(struct tok *t)
{
	if ((t->depth == 0 && t->root_seen) || t->depth == MAX_DEPTH)
		return open_refused(t);
	t->root_seen = true;
	t->name_lens[t->depth++] = (unsigned short)t->name_len;
	t->names_used += t->name_len;
	return report_element(t, TOK_START, t->tag_abs, false);
}

static inline __attribute__((always_inline)) void close_element(struct tok *t)
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
	size_t from = c->i;
	c->i += find_any3(c->buf + c->i, c->limit - c->i, t->quote, '<', '&');
	bool closed = c->i < c->limit && c->buf[c->i] == t->quote;
	if (attributes_reported(t) && (closed || c->i > from) &&
	    attribute_piece(t, c->buf + from, c->i - from, !closed, false) < 0)
		return -1;
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

/*
 * ---- plain tags, read at once ----
 *
 * Most tags are wholly in the window, with ASCII names of at most one ':'
 * (which libxml2 reads whole) and attribute values without references.
 * Such a tag is checked and reported in one pass, as the states above
 * would, but without going through them; anything else (or anything wrong)
 * is left to them from the tag's first byte, so that they find the same
 * error at the same place.  Nothing that outlives the tag is changed before
 * the tag is known to be plain and right.
 * Tags whose attributes are reported are left to the states.
 */

/* A letter or '_': a name's first byte, read as plain. */
static inline bool is_plain_name_start(unsigned char b)
{
	return (char_class[b] & (C_NAME_START | C_PLAIN)) == (C_NAME_START | C_PLAIN);
}

#ifdef __SSE2__
/* The bytes of v that are plain name characters: letters, digits, '-', '.' and '_'. */
static inline __attribute__((always_inline)) __m128i plain_name_bytes(__m128i v)
{
	/* as signed bytes after adding 0x80 - lo, x is in [lo, lo + n) when it is below -128 + n */
	__m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
	__m128i letter = _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8((char)(0x80 - 'a'))),
					_mm_set1_epi8((char)(0x80 + 26)));
	/* '-', '.', '/' and the digits, then not '/' */
	__m128i span = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '-'))),
				      _mm_set1_epi8((char)(0x80 + '9' + 1 - '-')));
	span = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), span);
	return _mm_or_si128(_mm_or_si128(letter, span), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
}
#endif

/*
 * Index of the first byte from buf[i] on that is not a plain name character
 * (buf[limit] is not one: see io_refill(), which also zeroes the SLACK bytes
 * after the window that a block read here may touch).
 */
static inline __attribute__((always_inline)) size_t skip_plain_name(const unsigned char *buf, size_t i)
{
#ifdef __SSE2__
	for (;; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
		unsigned plain = (unsigned)_mm_movemask_epi8(plain_name_bytes(v));
		if (plain != 0xFFFF)
			return i + (size_t)__builtin_ctz(~plain);
	}
#else
	while (is_class(buf[i], C_PLAIN))
		i++;
	return i;
#endif
}

#ifndef __OPTIMIZE_SIZE__
/* skip_plain_name() out of line, for the rarer local part of a prefixed name. */
__attribute__((noinline)) static size_t skip_plain_local(const unsigned char *buf, size_t i)
{
	return skip_plain_name(buf, i);
}
#endif

/*
 * Index of the first byte from buf[i] on that is not in a plain name of at
 * most one ':' ("prefix:local", "a:", "a:-": all read whole, see
 * qname_whole()); the caller looks for a second ':'.  Where size matters,
 * the local part is read by the same loop.
 */
static inline __attribute__((always_inline)) size_t skip_plain_qname(const unsigned char *buf, size_t i)
{
#ifdef __OPTIMIZE_SIZE__
	for (bool colon = false;; colon = true) {
		i = skip_plain_name(buf, i);
		if (buf[i] != ':' || colon)
			return i;
		i++;
	}
#else
	i = skip_plain_name(buf, i);
	return buf[i] == ':' ? skip_plain_local(buf, i + 1) : i;
#endif
}

/* Index of the first byte from buf[i] on that is not whitespace (buf[limit] is not). */
static inline __attribute__((always_inline)) size_t skip_plain_ws(const unsigned char *buf, size_t i)
{
	while (is_class(buf[i], C_WS))
		i++;
	return i;
}

/* The attributes of a plain tag read so far: where their names are in the window, and their keys. */
struct plain_seen {
	struct plain_attr *attrs;
	size_t count;
};

/* A plain tag's attribute names are never past ATTR_BUF in all: they need not be counted. */
_Static_assert(PLAIN_ATTR_MAX * NAME_MAX_LEN <= ATTR_BUF, "a plain tag's attribute names within ATTR_BUF");

/*
 * One attribute at buf[*at] (a plain name's first byte) to its closing
 * quote: noted in seen, *at moved past it; false when it is not plain, or
 * past a limit.  Duplicates are looked for once the tag is read
 * (plain_duplicate).
 */
HOT_INLINE bool plain_attribute(struct plain_seen *seen, const unsigned char *buf, size_t *at, size_t limit)
{
	size_t name = *at, i = skip_plain_qname(buf, name), len = i - name;
	if (len > NAME_MAX_LEN || seen->count == PLAIN_ATTR_MAX)
		return false;
	/*
	 * a name that goes on (a second ':', a byte beyond ASCII) has no '='
	 * after it; buf[limit] is neither whitespace, '=' nor a quote: the
	 * checks below stop there
	 */
	i = skip_plain_ws(buf, i);
	if (buf[i] != '=')
		return false;
	i = skip_plain_ws(buf, i + 1);
	unsigned char quote = buf[i++];
	if (quote != '"' && quote != '\'')
		return false;
	i += find_any3(buf + i, limit - i, quote, '<', '&');
	if (buf[i] != quote)
		return false;
	seen->attrs[seen->count++] = (struct plain_attr){ .at = (uint32_t)name, .key = plain_key(buf + name, len) };
	*at = i + 1;
	return true;
}

/* Whether two of the attributes seen have the same name. */
static bool plain_duplicate(const struct plain_seen *seen, const unsigned char *buf)
{
	const struct plain_attr *a = seen->attrs;
	for (size_t j = 1; j < seen->count; j++)
		for (size_t k = 0; k < j; k++)
			if (a[j].key == a[k].key && memcmp(buf + a[j].at, buf + a[k].at, a[j].key & 0xFFFF) == 0)
				return true;
	return false;
}

/*
 * A start tag whose name begins at the cursor (after '<', a plain name's
 * first byte): 1 when it was plain and is read (the cursor after it), 0
 * when it is left to the states (the cursor where it was), -1 on an error.
 */
static int plain_start_tag(struct tok *t, struct cursor *c)
{
	if (t->report_attributes && t->depth < t->report_depth)
		return 0;  /* its attributes are reported: by the states */
	const unsigned char *buf = c->buf;
	size_t from = c->i, limit = c->limit, i = skip_plain_qname(buf, from), len = i - from;
	if (i == limit || len > NAME_MAX_LEN || len > NAME_BUF - t->names_used)
		return 0;
	struct plain_seen seen = { .attrs = t->plain_attrs };
	while (is_class(buf[i], C_WS)) {
		i = skip_plain_ws(buf, i + 1);
		if (!is_plain_name_start(buf[i]))
			break;
		if (!plain_attribute(&seen, buf, &i, limit))
			return 0;
	}
	/* buf[limit] is not '/' or '>' */
	bool empty = buf[i] == '/';
	if (buf[i + empty] != '>' || (seen.count > 1 && plain_duplicate(&seen, buf)))
		return 0;
	copy_short(t->names + t->names_used, buf + from, len);
	t->name_len = len;
	if (open_element(t) < 0)
		return -1;
	if (empty) {
		if (report_element(t, TOK_END, c->abs + i, true) < 0)
			return -1;
		close_element(t);
		i++;
	}
	c->i = i + 1;
	c->state = S_TEXT;
	return 1;
}

/* Whether a[0, n) and b[0, n) are the same bytes; may read 15 bytes past either (SLACK). */
static inline __attribute__((always_inline)) bool same_bytes(const void *a, const void *b, size_t n)
{
#ifdef __SSE2__
	const unsigned char *p = a, *q = b;
	for (size_t j = 0; j < n; j += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + j)),
			y = _mm_loadu_si128((const __m128i *)(const void *)(q + j));
		unsigned differ = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) & 0xFFFF;
		if (n - j < 16)
			differ &= (1u << (n - j)) - 1;
		if (differ)
			return false;
	}
	return true;
#else
	return memcmp(a, b, n) == 0;
#endif
}

/*
 * An end tag whose name begins at the cursor (after "</"), when it is the
 * open element's name and '>' right after it: 1 when read, 0 when left to
 * the states (the cursor where it was), -1 on an error.
 */
static int plain_end_tag(struct tok *t, struct cursor *c)
{
	size_t len;
	const char *top = top_name(t, &len);
	if (c->limit - c->i <= len || c->buf[c->i + len] != '>' || !same_bytes(c->buf + c->i, top, len))
		return 0;
	if (report_element(t, TOK_END, t->tag_abs, false) < 0)
		return -1;
	close_element(t);
	c->i += len + 1;
	c->state = S_TEXT;
	return 1;
}

/* After '<': a start tag, an end tag, "<!" or "<?". */
static int after_lt(struct tok *t, struct cursor *c)
{
	unsigned char b = c->buf[c->i];
	if (is_class(b, C_NAME_START) || b >= 0x80) {
		int r = is_plain_name_start(b) ? plain_start_tag(t, c) : 0;
		if (r != 0)
			return r < 0 ? r : 0;
		/* element_name() reads it from its first character */
		c->state = S_START_NAME;
		t->name_len = 0;
		t->name_classes = 0;
		t->attr_count = t->attr_used = 0;
		t->attr_bits = 0;
		return 0;
	}
	c->i++;
	switch (b) {
	case '/': {
		if (t->depth == 0)
			return tok_fail(t, t->tag_abs, "end tag outside the root element");
		int r = plain_end_tag(t, c);
		if (r != 0)
			return r < 0 ? r : 0;
		c->state = S_END_NAME;
		t->name_len = 0;
		return 0;
	}
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
		if (r == 0 && c.state == S_LT && c.i < c.limit) {
			r = after_lt(t, &c);
			if (c.state == S_TEXT)
				continue;  /* a plain tag was read */
		}
		if (r == 0 && in_start_tag(c.state) && c.i < c.limit)
			r = start_tag(t, &c);
		else if (r == 0 && in_end_tag(c.state) && c.i < c.limit)
			r = end_tag(t, &c);
	}
	*at = c;
	return r;
}

/* ---- "<!" and keywords ---- */

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

/* ---- comments, CDATA, processing instructions ---- */

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

/* ---- references ---- */

static int fail_reference(struct tok *t)
{
	return tok_fail(t, t->ref_abs, "'&' must start a reference such as &amp; or &#38;");
}

static unsigned hex_value(unsigned char b)
{
	return b <= '9' ? (unsigned)(b - '0') : (unsigned)((b | 0x20) - 'a' + 10);
}

/* The character a predefined entity stands for, or 0. */
static char predefined_entity(const char *name, size_t len)
{
	static const struct {
		char name[5], c;
	} predefined[] = { { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "apos", '\'' }, { "quot", '"' } };
	for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++)
		if (strlen(predefined[i].name) == len && memcmp(predefined[i].name, name, len) == 0)
			return predefined[i].c;
	return 0;
}

/* Whether the entity &name; may stand where the reference is (t->ret says where). */
static int check_entity(struct tok *t, const char *name, size_t len)
{
	if (predefined_entity(name, len))
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
	} else if (t->ret == S_ATTR_VALUE && attributes_reported(t)) {
		char ch = predefined_entity(t->name, t->name_len);
		if ((ch ? attribute_piece(t, &ch, 1, true, false) : attribute_piece(t, t->name, t->name_len, true, true)) < 0)
			return -1;
	}
	c->i++;
	return markup_done(t, c, t->ret);
}

/* At the ';' of &#N; or &#xH;, the character's number in charref. */
static int char_reference_done(struct tok *t, struct cursor *c)
{
	if (!is_xml_char(t->charref))
		return tok_fail(t, t->ref_abs, "character reference to U+%04lX, which XML does not allow", t->charref);
	if (t->ret == S_DT_VALUE)
		entity_value_char(t, t->charref);
	if (t->ret == S_ATTR_VALUE && attributes_reported(t) &&
	    attribute_piece(t, t->charref_utf8, utf8_encode(t->charref, t->charref_utf8), true, false) < 0)
		return -1;
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
 * ---- DOCTYPE, with its internal subset ----
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
	if (predefined_entity(name, len) ||
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

/* ---- driving it ---- */

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

int tok_read(struct tok *t)
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

unsigned long long tok_keep_from(const struct tok *t)
{
	bool in_name = t->state == S_LT || t->state == S_START_NAME || t->state == S_END_NAME;
	return in_name ? t->tag_abs : NO_OFFSET;
}

bool tok_after_root(const struct tok *t)
{
	return t->root_seen && t->depth == 0 && t->state == S_TEXT;
}

int tok_finish(struct tok *t)
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
 * The tokenizer and its memory, one allocation; none of the buffers needs
 * zeroing.  A page is faulted in when it is first touched (about 2 us each
 * in a virtual machine): what a domain XML touches comes first, in the order
 * it is touched (a plain tag's attributes, the open elements, the XML
 * declaration and its PI target, the open elements' names: about 1.7 KiB
 * for a few open elements), the rest after it, so that it often fits in the
 * page where the document's window ends (xmlpatch.c allocates that first).
 */
struct tok_memory {
	struct tok tok;
	struct plain_attr plain_attrs[PLAIN_ATTR_MAX];
	unsigned short name_lens[MAX_DEPTH];
	char decl[DECL_MAX];
	char name[NAME_MAX_LEN + SLACK];    /* a reference, PI target or declared name being read */
	char names[NAME_BUF + SLACK];
	struct name_ref attrs[ATTR_MAX];
	struct name_ref entities[ENTITY_MAX];
	char attr_names[ATTR_BUF + SLACK];
	char entity_names[ENTITY_BUF];
};

struct tok *tok_new(struct io *io, tok_report_fn *report, void *sink, size_t depth)
{
	struct tok_memory *m = malloc(sizeof *m);
	if (!m)
		return NULL;
	m->tok = (struct tok){ .io = io, .report = report, .sink = sink, .report_depth = depth, .end_depth = depth,
			       .state = S_TEXT,
			       .names = m->names, .name_lens = m->name_lens, .decl = m->decl, .name = m->name,
			       .attr_names = m->attr_names, .attrs = m->attrs, .plain_attrs = m->plain_attrs,
			       .entity_names = m->entity_names, .entities = m->entities, .entity_new = NONE };
	return &m->tok;
}

void tok_free(struct tok *t)
{
	free(t);
}

void tok_set_depths(struct tok *t, size_t depth, size_t end_depth)
{
	t->report_depth = depth;
	t->end_depth = end_depth;
}

void tok_set_depth(struct tok *t, size_t depth)
{
	tok_set_depths(t, depth, depth);
}

void tok_report_attributes(struct tok *t, bool on)
{
	t->report_attributes = on;
}

int tok_read_to_end(struct tok *t)
{
	struct io *io = t->io;
	for (;;) {
		if (tok_read(t) < 0)
			return -1;
		if (io->bad != NONE)
			return io_fail_invalid_byte(io, tok_after_root(t));
		ssize_t got = io_refill(io, tok_keep_from(t));
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		io_validate(io);
	}
	return io_check_utf8_end(io) < 0 ? -1 : tok_finish(t);
}

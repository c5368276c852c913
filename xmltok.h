/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_XMLTOK_H
#define HOSTUSB_XMLTOK_H
/*
 * The XML patcher's tokenizer: reads the window of xmlio.h, checks that the
 * document is well formed (the checks are listed below) and reports what it
 * reads as events to a sink.  Knows no element by name.  Resumable at any
 * byte: a construct may straddle chunks.
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
 * characters are checked before it, by io_validate() (xmlio.h).
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
 *
 * To drive it: tok_new(), then for each chunk tok_read() (after
 * io_refill() and io_validate(); io_refill() is given tok_keep_from() so
 * that a tag an event reports is still in the window), and at the end of
 * the document tok_finish(); tok_read_to_end() does all of that.  The sink may change tok_set_depth() from
 * within an event.  A reader of elements' attributes turns on
 * tok_report_attributes() and sets the depth of the deepest element it
 * reads: it gets START, then ATTR pieces, then TEXT, MARKUP and the
 * children's events, then END, each with its depth.
 */
#include "xmlio.h"

#include <stdbool.h>
#include <stddef.h>

enum tok_event_kind {
	TOK_TEXT,    /* character data between markup */
	TOK_START,   /* the name of a start tag is read */
	TOK_ATTR,    /* a piece of an attribute value of the element just started (tok_report_attributes) */
	TOK_END,     /* an element ends: the name of its end tag is read, or the '/' of its "/>" */
	TOK_MARKUP,  /* a comment, PI, CDATA section, DOCTYPE or reference ended */
};

/*
 * One event.  Elements are reported down to report_depth (the root is at
 * depth 1; their END down to the end depth of tok_set_depths()); text and
 * other markup directly inside elements above that depth, and outside the
 * root (depth 0).  Character data broken by a reference or
 * by the end of the window comes as several TEXT events.
 *
 * With tok_report_attributes(), each attribute of an element reported
 * comes after its START, in document order, as one or more ATTR events: the
 * value in pieces (as TEXT is), each reference a piece of its own, replaced
 * by its character (&#N;, &#xH;, &lt; and the other predefined ones) in
 * UTF-8, or, for an entity declared in the internal subset, whose
 * replacement text is not kept, by the entity's name with unresolved set.
 * The last piece of a value has more false.  The checks are the same with
 * or without.
 */
struct tok_event {
	enum tok_event_kind kind;
	bool empty;                      /* END: the element was "<name .../>" */
	bool more;                       /* ATTR: more pieces of this value follow */
	bool unresolved;                 /* ATTR: text is the name of a declared entity */
	size_t depth;                    /* of the element; TEXT, MARKUP: of the one holding it */
	const char *name;                /* START, END: the element's name; ATTR: the attribute's */
	size_t name_len;
	unsigned long long at;           /* START, END: offset of the tag's '<', or of the '/' of
					    "/>"; still in the window, and not yet written */
	const unsigned char *text;       /* TEXT: valid until the window moves; ATTR: until the event returns */
	size_t text_len;
};

/* Where events go: 0, or -1 with the error filled in (which the tokenizer passes on). */
typedef int tok_report_fn(void *sink, const struct tok_event *ev);

struct tok;

/* A tokenizer at the start of the document in io, reporting down to depth; NULL when out of memory. */
struct tok *tok_new(struct io *io, tok_report_fn *report, void *sink, size_t depth);
void tok_free(struct tok *t);

/* How deep to report elements (the root is at depth 1): set at any time. */
void tok_set_depth(struct tok *t, size_t depth);

/*
 * The same, but END only down to end_depth (at most depth): a sink that
 * needs no END of the deepest elements it sees, whose content it is not
 * told, is spared them.
 */
void tok_set_depths(struct tok *t, size_t depth, size_t end_depth);

/* Whether the attributes of the elements reported are (ATTR events); off at first. */
void tok_report_attributes(struct tok *t, bool on);

/* Reads the window's checked bytes, reporting events as it goes: 0, or -1 on an error. */
int tok_read(struct tok *t);

/*
 * The first byte that an event may still report, which the window must keep
 * unwritten (NO_OFFSET if none): the '<' of a tag whose name is being read.
 */
unsigned long long tok_keep_from(const struct tok *t);

/* Between markup, after the root element. */
bool tok_after_root(const struct tok *t);

/* At the end of the document: everything is closed, and there was a root. */
int tok_finish(struct tok *t);

/*
 * All of it, from the start of the document: tok_read() on each chunk
 * io_refill() reads (keeping tok_keep_from()) and io_validate() checks, then
 * the end (io_check_utf8_end(), tok_finish()).  0, or -1 on an error.
 */
int tok_read_to_end(struct tok *t);

#endif

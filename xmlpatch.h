/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_XMLPATCH_H
#define HOSTUSB_XMLPATCH_H
/*
 * Streaming splice of element text into <domain>/<devices>.  Knows nothing of
 * what the elements mean: it is given text and finds where it belongs.
 */
#include <stddef.h>
#include <sys/types.h>

/* Where the document comes from. */
struct xmlpatch_input {
	int fd;
	/* Reads like read(2), which is used when NULL (tests pass one that
	 * returns short counts, to reach every chunk boundary). */
	ssize_t (*read)(int fd, void *buf, size_t count);
};

/* Why a document was refused. */
enum xmlpatch_refusal {
	XMLPATCH_IO,         /* reading, writing or memory failed                        */
	XMLPATCH_MALFORMED,  /* not well-formed XML: libxml2 refuses it too             */
	XMLPATCH_LIMIT,      /* past a limit, or a feature not supported (listed below) */
	XMLPATCH_NOT_DOMAIN, /* the root is not <domain>, or is an empty <domain/>      */
};

struct xmlpatch_error {
	enum xmlpatch_refusal kind;
	unsigned long line, column; /* 1-based position in the input; 0 if none */
	char message[160];          /* "line 3:7: mismatched tag </foo>" or an I/O reason */
};

/* How the insertion was made, so callers and tests can check the invariant. */
enum xmlpatch_mode {
	XMLPATCH_INSERTED,  /* text inserted before </devices>                    */
	XMLPATCH_EXPANDED,  /* <devices/> became <devices>...</devices>          */
	XMLPATCH_CREATED,   /* no <devices>: one created before </domain>        */
};

/*
 * Where the output differs from the input:
 *  INSERTED, CREATED: output == input with insert_length bytes inserted at
 *    insert_offset (which is also the input offset: nothing comes before).
 *  EXPANDED: the "/>" of <devices/> at input offset insert_offset became
 *    output[insert_offset, insert_offset + insert_length), which is
 *    ">" + new children + "</devices>".  So input == output[0, insert_offset)
 *    + "/>" + output[insert_offset + insert_length, end).
 * With n == 0 nothing is changed: insert_length is 0 (2 for EXPANDED, "/>"
 * replaced by itself).
 */
struct xmlpatch_result {
	enum xmlpatch_mode mode;
	unsigned long long insert_offset; /* byte offset in the output where the insertion begins */
	unsigned long long insert_length; /* bytes inserted (for EXPANDED: replacing "/>" of the input) */
};

/*
 * Copies the document from in->fd to out_fd, adding the n fragments as the last
 * children of the <devices> element that is a direct child of the root <domain>.
 * Each fragment is one element, lines separated by '\n', nested lines indented
 * by two spaces per level; the patcher re-indents them and uses the document's
 * own newline style.  Returns 0, or -1 with *err filled (nothing is promised
 * about what was written to out_fd on error).
 *
 * Layout: when the text directly inside <devices> has a newline, each
 * fragment line goes on its own line, indented like the last child of
 * <devices> that begins a line, plus one unit per level (the unit is that
 * child's indentation minus the indentation of </devices>, else the one used
 * by the children of <domain>, else two spaces or a tab).  Otherwise (e.g.
 * <devices><a/></devices>) the lines are joined with no whitespace.  A created
 * <devices> or an expanded <devices/> is laid out the same way from the
 * children of <domain>: multi-line when </domain> (or <devices/>) begins a line.
 *
 * Refused (-1, the message names line:column and the reason, err->kind
 * why):
 *  MALFORMED: a document that is not well-formed XML 1.0 (fifth edition):
 *    what libxml2 2.9 refuses, parsed without network access or external
 *    entities, among UTF-8 documents within the limits below; so also more
 *    than 257 levels of elements, which libxml2 refuses without
 *    XML_PARSE_HUGE (257 are accepted).  The tokenizer's interface,
 *    xmltok.h, lists the checks.
 *  LIMIT: a document past a limit of the patcher, or using a feature it
 *    does not support, though it may be well formed; each number is the
 *    most accepted, one more is refused:
 *    - an encoding other than UTF-8 (a BOM is allowed; encoding="UTF-8" or
 *      "UTF8" in any case), UTF-16 or UTF-32;
 *    - a name (of an element, attribute, PI target, entity, reference or
 *      the DOCTYPE) longer than 256 bytes; open element names longer than
 *      16,384 bytes in all; an XML declaration longer than 263 bytes (256
 *      between "<?xml" and "?>"); more than 64 attributes in one start tag,
 *      or their names longer than 4,096 bytes in all;
 *    - in the DOCTYPE's internal subset, only comments, PIs and
 *      <!ENTITY name "value"> are supported: <!ELEMENT>, <!ATTLIST>,
 *      <!NOTATION>, parameter entities and their references, and external
 *      entities are refused; so are more than 64 entities, or their names
 *      longer than 4,096 bytes in all;
 *    - a reference to a declared entity whose replacement text holds
 *      markup ('<', or '&' of a reference) where libxml2 would parse it
 *      (in an attribute value, an entity holding '<' is MALFORMED);
 *    - a reference to an entity not declared when the DOCTYPE names an
 *      external DTD (which is never read) and the document is not
 *      standalone;
 *    - a NUL byte after the root element (libxml2 ignores what follows it).
 *  NOT_DOMAIN: a root that is not <domain> (a prefix counts: <lv:domain>
 *    is refused), or an empty <domain/>.
 *  IO: reading, writing or allocating failed (line and column are 0).
 * Memory use does not depend on the document.
 *
 * Accepted though libxml2 2.9 refuses them (its limits without
 * XML_PARSE_HUGE): start tags, attribute values, comments, PIs and CDATA
 * sections of about 10,000,000 bytes or more.
 *
 * Refused (MALFORMED) though libxml2 2.9 accepts it: an internal subset
 * right after the DOCTYPE's closing '>', as in <!DOCTYPE domain>[<!ENTITY e
 * "v">]><domain>, which libxml2 reads as the DOCTYPE's internal subset and
 * XML does not allow ("text outside the root element" at the '[').
 */
int xmlpatch_stream(const struct xmlpatch_input *in, int out_fd, const char *const *fragments, size_t n,
		    struct xmlpatch_result *result, struct xmlpatch_error *err);

#endif

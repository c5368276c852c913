/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_DOMREAD_H
#define HOSTUSB_DOMREAD_H
/*
 * Values read out of a domain XML without changing it, through the
 * patcher's window and tokenizer (xmlio.h, xmltok.h) and its attribute
 * events.  Knows <domain> and <devices>, as the splice does, and nothing of
 * what their children mean: it is asked for the children of one name and,
 * of each, some attributes by path, and gives back their values as text.
 */
#include <stdbool.h>
#include <stddef.h>

#include "xmlpatch.h"

#define DOMREAD_FIELDS_MAX   8
#define DOMREAD_VALUE_MAX    64     /* bytes of a value kept */
#define DOMREAD_ELEMENTS_MAX 1024   /* children read from one document */

/* One field of one child: the attribute of the first element at its path. */
struct domread_value {
	bool present;       /* that element exists and has the attribute */
	/* present, but not read: it refers to an entity declared in the
	 * document (whose text is not kept), or is longer than
	 * DOMREAD_VALUE_MAX; value is "" */
	bool unreadable;
	char value[DOMREAD_VALUE_MAX + 1];
};

struct domread_element {
	unsigned long line;                               /* of its start tag */
	struct domread_value values[DOMREAD_FIELDS_MAX];  /* one per field asked for, in that order */
};

struct domread_result {
	struct domread_element *elements;   /* in document order */
	size_t count;
};

/*
 * Every element named name that is a child of a <devices> child of the root
 * <domain> (all of them, as libvirt reads them), and of each, fields[0, n)
 * (n <= DOMREAD_FIELDS_MAX): "PATH@ATTRIBUTE", PATH the element names from
 * the child down, separated by '/', empty for the child itself: "@type",
 * "source/vendor@id".  Values are as XML reads them: character references
 * and the predefined entities replaced, no whitespace taken off.  0 with
 * *out filled (free with domread_free), or -1 with err set: the document
 * refused as xmlpatch_stream refuses it (a root that is not <domain>
 * included), or more than DOMREAD_ELEMENTS_MAX such children (LIMIT), or
 * out of memory (IO).  Memory use does not depend on the rest of the
 * document.
 */
int domread_children(const struct xmlpatch_input *in, const char *name, const char *const *fields, size_t n,
		     struct domread_result *out, struct xmlpatch_error *err);
void domread_free(struct domread_result *r);

#endif

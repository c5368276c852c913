/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_XMLTOK_H
#define HOSTUSB_XMLTOK_H
/*
 * The XML patcher's tokenizer: reads the window of xmlio.h, checks that the
 * document is well formed (xmltok.c lists the checks) and reports what it
 * reads as events to a sink.  Knows no element by name.  Resumable at any
 * byte: a construct may straddle chunks.
 *
 * To drive it: tok_new(), then for each chunk tok_read() (after
 * io_refill() and io_validate(); io_refill() is given tok_keep_from() so
 * that a tag an event reports is still in the window), and at the end of
 * the document tok_finish().  The sink may change tok_set_depth() from
 * within an event.
 */
#include "xmlio.h"

#include <stdbool.h>
#include <stddef.h>

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

/* Where events go: 0, or -1 with the error filled in (which the tokenizer passes on). */
typedef int tok_report_fn(void *sink, const struct tok_event *ev);

struct tok;

/* A tokenizer at the start of the document in io, reporting down to depth; NULL when out of memory. */
struct tok *tok_new(struct io *io, tok_report_fn *report, void *sink, size_t depth);
void tok_free(struct tok *t);

/* How deep to report elements (the root is at depth 1): set at any time. */
void tok_set_depth(struct tok *t, size_t depth);

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

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domread.c: values read out of a domain XML; see domread.h.  The window
 * (xmlio.c) and the tokenizer (xmltok.c) are the splice's, driven here
 * without output: the tokenizer reports <domain>'s children, <devices>'
 * children and, inside a child asked for, the elements down to the deepest
 * field's, each with its attributes.
 */
#include "domread.h"
#include "xmlio.h"
#include "xmltok.h"

#include <stdlib.h>
#include <string.h>

#define LEVELS_MAX 6      /* elements below the child a field's path may name */
#define PATH_BUF   128    /* a longer path below the child matches no field */

/* What the reader keeps between events. */
struct query {
	struct io *io;
	struct tok *tok;
	const char *name;
	const char *const *fields;
	size_t n, levels;              /* levels: the deepest field's, below the child */
	size_t path_len[DOMREAD_FIELDS_MAX];   /* of each field's PATH part */
	struct domread_result *out;
	size_t capacity;
	bool in_devices, in_child;
	/* the path of the element open below the child, and its length at each level */
	char path[PATH_BUF];
	size_t at_level[LEVELS_MAX + 1];
	bool cut;                      /* the path no longer fits: matches nothing */
	size_t active[DOMREAD_FIELDS_MAX];     /* depth of the element a field reads now, 0 if none */
	bool seen[DOMREAD_FIELDS_MAX];         /* the first element at its path was met */
	size_t value_len[DOMREAD_FIELDS_MAX];
	unsigned long long line_at;    /* document offset line_at is on line */
	unsigned long line;
};

static bool named(const struct tok_event *ev, const char *name)
{
	return ev->name_len == strlen(name) && memcmp(ev->name, name, ev->name_len) == 0;
}

/*
 * The line of document offset at, counted on from the last one asked for
 * while that is still in the window (children come in document order), so
 * that a document of many elements is not scanned again for each.
 */
static unsigned long line_of(struct query *q, unsigned long long at)
{
	const struct io *io = q->io;
	if (q->line_at >= io->abs && q->line_at <= at)
		q->line += (unsigned long)io_count_newlines(io->buf + (q->line_at - io->abs), (size_t)(at - q->line_at));
	else
		q->line = io_line(io, at);
	q->line_at = at;
	return q->line;
}

/* Room for one more element in out: 0, or -1 with the error set. */
static int make_room(struct query *q, unsigned long long at)
{
	struct domread_result *out = q->out;
	if (out->count == DOMREAD_ELEMENTS_MAX)
		return io_refuse_at(q->io, XMLPATCH_LIMIT, at, "more than %d <%s> elements in <devices>",
				    DOMREAD_ELEMENTS_MAX, q->name);
	if (out->count < q->capacity)
		return 0;
	size_t capacity = q->capacity ? 2 * q->capacity : 8;
	/* malloc and copy: a static musl build carries no realloc */
	struct domread_element *grown = malloc(capacity * sizeof *grown);
	if (!grown)
		return io_fail(q->io, "malloc");
	if (out->count)
		memcpy(grown, out->elements, out->count * sizeof *grown);
	free(out->elements);
	out->elements = grown;
	q->capacity = capacity;
	return 0;
}

/* The child that starts at ev: a new element, its own attributes read. */
static int child_starts(struct query *q, const struct tok_event *ev)
{
	if (make_room(q, ev->at) < 0)
		return -1;
	q->out->elements[q->out->count++] = (struct domread_element){ .line = line_of(q, ev->at) };
	q->in_child = true;
	q->cut = false;
	q->at_level[0] = 0;
	for (size_t f = 0; f < q->n; f++) {
		q->seen[f] = q->path_len[f] == 0;
		q->active[f] = q->seen[f] ? ev->depth : 0;
		q->value_len[f] = 0;
	}
	return 0;
}

/* An element below the child starts, at level (1: the child's own children). */
static void descendant_starts(struct query *q, const struct tok_event *ev, size_t level)
{
	size_t len = q->at_level[level - 1], sep = level > 1;
	q->cut |= len + sep + ev->name_len > PATH_BUF;
	if (!q->cut) {
		q->path[len] = '/';
		memcpy(q->path + len + sep, ev->name, ev->name_len);
		len += sep + ev->name_len;
	}
	q->at_level[level] = len;
	for (size_t f = 0; f < q->n && !q->cut; f++)
		if (!q->seen[f] && q->path_len[f] == len && memcmp(q->fields[f], q->path, len) == 0) {
			q->seen[f] = true;
			q->active[f] = ev->depth;
			q->value_len[f] = 0;
		}
}

/* A piece of an attribute's value: into every field reading it. */
static void attribute_piece(struct query *q, const struct tok_event *ev)
{
	struct domread_element *e = &q->out->elements[q->out->count - 1];
	for (size_t f = 0; f < q->n; f++) {
		const char *attr = q->fields[f] + q->path_len[f] + 1;
		if (q->active[f] != ev->depth || !named(ev, attr))
			continue;
		struct domread_value *v = &e->values[f];
		if (ev->unresolved || q->value_len[f] + ev->text_len > DOMREAD_VALUE_MAX) {
			v->unreadable = true;
			memset(v->value, 0, sizeof v->value);
		} else if (!v->unreadable) {
			memcpy(v->value + q->value_len[f], ev->text, ev->text_len);
		}
		q->value_len[f] += ev->text_len;
		if (!ev->more) {
			v->present = true;
			v->value[v->unreadable ? 0 : q->value_len[f]] = '\0';
		}
	}
}

static void element_ends(struct query *q, const struct tok_event *ev)
{
	for (size_t f = 0; f < q->n; f++)
		if (q->active[f] == ev->depth)
			q->active[f] = 0;
	if (ev->depth == 3)
		q->in_child = false;
}

static int element_starts(struct query *q, const struct tok_event *ev)
{
	if (ev->depth == 1 && !named(ev, "domain"))
		return io_refuse_at(q->io, XMLPATCH_NOT_DOMAIN, ev->at, "root element is <%.*s>, not <domain>",
				    shown(ev->name_len), ev->name);
	if (ev->depth == 2)
		q->in_devices = named(ev, "devices");
	else if (ev->depth == 3 && q->in_devices && named(ev, q->name))
		return child_starts(q, ev);
	else if (ev->depth > 3 && q->in_child)
		descendant_starts(q, ev, ev->depth - 3);
	return 0;
}

/* The tokenizer's sink; then how deep to look on: into a child asked for, down to its deepest field. */
static int query_event(void *sink, const struct tok_event *ev)
{
	struct query *q = sink;
	int rc = 0;
	if (ev->kind == TOK_ATTR && q->in_child) {
		attribute_piece(q, ev);
	} else if (ev->kind == TOK_END) {
		if (q->in_child)
			element_ends(q, ev);
		q->in_devices &= ev->depth != 2;
	} else if (ev->kind == TOK_START) {
		rc = element_starts(q, ev);
	}
	tok_set_depth(q->tok, q->in_child ? 3 + q->levels : q->in_devices ? 3 : 2);
	return rc;
}

/* Each field's PATH length, and the deepest level below the child any field names. */
static void plan_fields(struct query *q)
{
	for (size_t f = 0; f < q->n; f++) {
		const char *field = q->fields[f], *at = strrchr(field, '@');
		q->path_len[f] = at ? (size_t)(at - field) : strlen(field);
		size_t levels = q->path_len[f] > 0;
		for (size_t i = 0; i < q->path_len[f]; i++)
			levels += field[i] == '/';
		q->levels = levels > q->levels ? levels : q->levels;
	}
	if (q->levels > LEVELS_MAX)
		q->levels = LEVELS_MAX;
}

int domread_children(const struct xmlpatch_input *in, const char *name, const char *const *fields, size_t n,
		     struct domread_result *out, struct xmlpatch_error *err)
{
	err->line = err->column = 0;
	err->message[0] = '\0';
	*out = (struct domread_result){ NULL, 0 };
	struct io io;
	struct query q = { .io = &io, .name = name, .fields = fields, .n = n, .out = out, .line = 1 };
	plan_fields(&q);
	unsigned char *window = malloc(IO_WINDOW);
	io_init(&io, in->fd, -1, in->read, err, window, CHUNK, NULL, 0);
	io_drop_to(&io, NO_OFFSET);   /* nothing is written: all of it counts as written already */
	q.tok = window ? tok_new(&io, query_event, &q, 2) : NULL;
	if (q.tok)
		tok_report_attributes(q.tok, true);
	int rc = q.tok ? tok_read_to_end(q.tok) : io_fail(&io, "malloc");
	tok_free(q.tok);
	free(window);
	if (rc < 0)
		domread_free(out);
	return rc;
}

void domread_free(struct domread_result *r)
{
	if (!r)
		return;
	free(r->elements);
	*r = (struct domread_result){ NULL, 0 };
}

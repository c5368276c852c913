/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xmlpatch.c: streaming splice of element text into <domain>/<devices>.
 *
 * The document is read in fixed chunks into one window, checked as it goes
 * and written out from the same window, unchanged except for the inserted
 * text.  Memory use does not depend on the document.  Four parts, each using
 * only those above it:
 *
 *   io         (xmlio.c) the window: reads the document through a
 *              read(2)-like function, writes out what is done, keeps what an
 *              edit may still need; the inserted text; error positions
 *   validate   (xmlio.c) UTF-8 and control characters, newlines counted as
 *              it goes
 *   tokenizer  (xmltok.c) the markup, checked; reports start tags, end
 *              tags, text and other markup with depth, name and document
 *              offset, and knows no element by name
 *   splice     (here) the policy: which end tag the new elements go before,
 *              and how their lines are laid out; the only part that knows
 *              <domain> and <devices>
 *
 * xmlpatch_stream(), at the end, drives them: the tokenizer reads the
 * window and hands each event to the splice (which edits the output at the
 * offsets reported) and then says how deep to report; when the window is
 * read, it is refilled and validated.
 */
#include "xmlpatch.h"
#include "xmlio.h"
#include "xmltok.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
	INDENT_MAX = 128, /* longer indentation is not used as a model */
};

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
	/* most often a newline and the next line's indentation: only that indentation matters */
	size_t len = ev->text_len, j = len;
	for (uint64_t w; j >= 8 && (memcpy(&w, ev->text + j - 8, 8), w == 0x2020202020202020u); j -= 8)
		;
	while (j > 0 && (ev->text[j - 1] == ' ' || ev->text[j - 1] == '\t'))
		j--;
	if (j > 0 && ev->text[j - 1] == '\n' && len - j <= INDENT_MAX) {
		s->line_start = true;
		memcpy(s->ws.s, ev->text + j, len - j);
		s->ws.len = len - j;
		if (newline_seen)
			*newline_seen = true;
		return;
	}
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
 * the target <devices> its children too.  Of the deepest, only START: any
 * markup ends a line's leading whitespace, and nothing inside them is seen.
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
			if (io_emit(io, lay->lead.s, lay->lead.len) < 0)
				return -1;
		} else if (io_emit_str(io, io->newline) < 0 || io_emit(io, lay->child.s, lay->child.len) < 0) {
			return -1;
		}
		for (size_t i = 0; i < level; i++)
			if (io_emit(io, lay->unit.s, lay->unit.len) < 0)
				return -1;
		for (size_t i = 0; i < spaces; i++)
			if (io_emit(io, " ", 1) < 0)
				return -1;
	}
	return io_emit(io, text, n);
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
	    (io_emit_str(io, io->newline) < 0 || io_emit(io, lay->trail.s, lay->trail.len) < 0))
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
	if (io_copy_to(s->io, at) < 0)
		return -1;
	s->io->emitted = 0;
	if (s->nfragments > 0 && (emit_fragments(s, &lay, created) < 0 || io_emit_flush(s->io) < 0))
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
	if (io_copy_to(s->io, at) < 0)
		return -1;
	io_drop_to(s->io, at + 1);
	s->io->emitted = 0;
	if (io_emit(s->io, ">", 1) < 0 || emit_fragments(s, &lay, false) < 0 || io_emit_str(s->io, "</devices") < 0 ||
	    io_emit_flush(s->io) < 0)
		return -1;
	set_result(s, XMLPATCH_EXPANDED, at, s->io->emitted + 1);
	return 0;
}

/* ---- driving it all ---- */

/* The window, the tokenizer and the splice it reports to. */
struct pipeline {
	struct io io;
	struct tok *tok;
	struct splice splice;
};

/* The tokenizer's sink: the splice, which then says how deep to look on. */
static int deliver(void *sink, const struct tok_event *ev)
{
	struct pipeline *p = sink;
	if (splice_event(&p->splice, ev) < 0)
		return -1;
	size_t depth = splice_depth(&p->splice);
	tok_set_depths(p->tok, depth, depth - 1);
	return 0;
}

/* Reads the document through the tokenizer and the splice, writing it out. */
static int run(struct pipeline *p)
{
	struct io *io = &p->io;
	if (tok_read_to_end(p->tok) < 0 || splice_finish(&p->splice) < 0)
		return -1;
	return io_copy_to(io, io->abs + io->len);
}

/*
 * The stage the inserted text needs: twice its bytes, room for the
 * indentation its lines get, at most STAGE (more is written in blocks).  No
 * larger: the tokenizer's memory, allocated next, then begins on the page
 * where a small document ends.
 */
static size_t stage_for(const char *const *fragments, size_t n)
{
	size_t len = 256;
	while (n-- > 0)
		len += 2 * strlen(fragments[n]);
	return len < STAGE ? len : STAGE;
}

int xmlpatch_stream(const struct xmlpatch_input *in, int out_fd, const char *const *fragments, size_t n,
		    struct xmlpatch_result *result, struct xmlpatch_error *err)
{
	err->line = err->column = 0;
	err->message[0] = '\0';
	struct pipeline p = {
		/* the start of the document begins a line */
		.splice = { .io = &p.io, .fragments = fragments, .nfragments = n, .result = result,
			    .line_start = true },
	};
	/* the window and after it the staged text, one allocation per document; none of it needs zeroing */
	size_t chunk = io_chunk_for(in->fd), window = KEEP + chunk + SLACK, stage = stage_for(fragments, n);
	unsigned char *b = malloc(window + stage);
	io_init(&p.io, in->fd, out_fd, in->read, err, b, chunk, b ? (char *)b + window : NULL, stage);
	indent_set(&p.splice.unit, "  ", 2);  /* unless the document shows its own */
	p.tok = b ? tok_new(&p.io, deliver, &p, splice_depth(&p.splice)) : NULL;
	int rc = p.tok ? run(&p) : io_fail(&p.io, "malloc");
	tok_free(p.tok);
	free(b);
	return rc;
}

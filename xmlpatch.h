#ifndef HOSTUSB_XMLPATCH_H
#define HOSTUSB_XMLPATCH_H
/*
 * Streaming splice of element text into <domain>/<devices>.  Knows nothing of
 * what the elements mean: it is given text and finds where it belongs.
 */
#include <stddef.h>

struct xmlpatch_error {
	unsigned long line, column; /* 1-based position in the input; 0 if none */
	char message[160];          /* "line 3:7: mismatched tag </foo>" or an I/O reason */
};

/* How the insertion was made, so callers and tests can check the invariant. */
enum xmlpatch_mode {
	XMLPATCH_INSERTED,  /* text inserted before </devices>                    */
	XMLPATCH_EXPANDED,  /* <devices/> became <devices>...</devices>          */
	XMLPATCH_CREATED,   /* no <devices>: one created before </domain>        */
};

struct xmlpatch_result {
	enum xmlpatch_mode mode;
	unsigned long long insert_offset; /* byte offset in the output where the insertion begins */
	unsigned long long insert_length; /* bytes inserted (for EXPANDED: replacing "/>" of the input) */
};

/*
 * Copies the document from in_fd to out_fd, adding the n fragments as the last
 * children of the <devices> element that is a direct child of the root <domain>.
 * Each fragment is one element, lines separated by '\n', nested lines indented
 * by two spaces per level; the patcher re-indents them and uses the document's
 * own newline style.  Returns 0, or -1 with *err filled (nothing is promised
 * about what was written to out_fd on error).
 */
int xmlpatch_stream(int in_fd, int out_fd, const char *const *fragments, size_t n,
		    struct xmlpatch_result *result, struct xmlpatch_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_FUZZ_XMLCHECK_H
#define HOSTUSB_FUZZ_XMLCHECK_H
/* The invariants of one xmlpatch_stream call, checked on its input and output. */
#include <stddef.h>
#include <stdint.h>

#include "xmlpatch.h"

struct xml_case {
	const uint8_t *in;
	size_t in_len;
	const char *const *fragments;
	size_t n;
	int rc;                               /* what xmlpatch_stream returned */
	const struct xmlpatch_result *result;
	const struct xmlpatch_error *err;
	const uint8_t *out;                   /* what it wrote */
	size_t out_len;
};

/*
 * On success: the output minus the inserted text is the input byte for byte;
 * the insertion is at </devices>, at "/>" of <devices/> or at </domain>, as the
 * mode says; the inserted text is the fragments (re-indented, in the
 * document's newline style); and, with libxml2 as the oracle, the input is
 * well formed, the output is well formed, the new elements are the last
 * children of the first <devices> child of <domain> and there are no other
 * new elements.  On error: a message and a position inside the input, and,
 * when the document was refused as not well formed (XMLPATCH_MALFORMED, not
 * a limit), libxml2 refuses it too.
 */
void xml_check(const struct xml_case *c);

/* One xmlpatch_stream call and what it gave; out is the caller's to free. */
struct xml_run {
	int rc;
	struct xmlpatch_result result;
	struct xmlpatch_error err;
	uint8_t *out;
	size_t out_len;
};

/*
 * Patches data[0, size) from the memfd in_fd into the memfd out_fd with reads
 * cut by read_seed (fuzz_read_pattern; 0: as the kernel gives them), and
 * checks the invariants above on what came out.
 */
void xml_patch_checked(int in_fd, int out_fd, const uint8_t *data, size_t size, const char *const *fragments,
		       size_t n, uint64_t read_seed, struct xml_run *run);

/* 1 when the libxml2 oracle is built in. */
int xml_oracle_available(void);

#endif

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
 * document's newline style); and, when libxml2 finds the input well formed,
 * the output is well formed, the new elements are the last children of the
 * first <devices> child of <domain> and there are no other new elements.
 * On error: a message and a position inside the input.
 */
void xml_check(const struct xml_case *c);

/* 1 when the libxml2 oracle is built in. */
int xml_oracle_available(void);

#endif

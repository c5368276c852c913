/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XML patcher fed arbitrary bytes, with 0 to 3 fragments chosen from the
 * input's hash, read in short pieces for half of the inputs.  Checks
 * everything xmlcheck.h lists.  The reader of a saved domain XML
 * (domread.c), on the same bytes read in the same pieces, refuses what the
 * patcher refuses, with the same message, and accepts the rest.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domread.h"
#include "fuzz.h"
#include "xmlcheck.h"

static const char *const fragment_pool[] = {
	"<hostdev mode='subsystem' type='usb'>\n"
	"  <source>\n"
	"    <vendor id='0x0627'/>\n"
	"    <product id='0x0001'/>\n"
	"    <address bus='1' device='2'/>\n"
	"  </source>\n"
	"</hostdev>",
	"<hostdev mode='subsystem' type='usb'/>",
	/* odd indentation, a blank line, text content */
	"<redirdev bus='usb'>\n"
	"   <boot order='1'/>\n"
	"\n"
	"  <alias name='ua-&amp;'>x</alias>\n"
	"</redirdev>",
};

static int in_fd = -1, out_fd = -1;

FUZZ_INIT(xml_bytes)
{
	in_fd = fuzz_memfd("in");
	out_fd = fuzz_memfd("out");
}

/* domread_children on what the patcher was given, against the patcher's verdict. */
static void check_reader(const uint8_t *data, size_t size, uint64_t read_seed, const struct xml_run *run)
{
	static const char *const fields[] = { "@type", "source/vendor@id", "source/address@bus" };
	struct domread_result found;
	struct xmlpatch_error err;
	fuzz_memfd_set(in_fd, data, size);
	fuzz_read_pattern(read_seed);
	const struct xmlpatch_input in = { .fd = in_fd, .read = fuzz_read };
	int rc = domread_children(&in, "hostdev", fields, 3, &found, &err);
	fuzz_read_pattern(0);
	/* the splice alone refuses an empty <domain/>; the reader alone more than its limit of children */
	bool empty_domain = run->rc < 0 && strstr(run->err.message, "the <domain> element is empty");
	bool reader_limit = rc < 0 && err.kind == XMLPATCH_LIMIT && strstr(err.message, "<hostdev> elements");
	if (!empty_domain && !reader_limit) {
		FUZZ_ASSERT(rc == run->rc, "domread: rc %d, the patcher's %d (%s)", rc, run->rc,
			    rc < 0 ? err.message : run->err.message);
		FUZZ_ASSERT(rc == 0 || (err.kind == run->err.kind && strcmp(err.message, run->err.message) == 0),
			    "domread refused [%s], the patcher [%s]", err.message, run->err.message);
	}
	for (size_t i = 0; rc == 0 && i < found.count; i++)
		for (size_t f = 0; f < 3; f++) {
			const struct domread_value *v = &found.elements[i].values[f];
			FUZZ_ASSERT(v->present || (!v->unreadable && !v->value[0]), "domread: an absent value has text");
			FUZZ_ASSERT(strlen(v->value) <= DOMREAD_VALUE_MAX && (!v->unreadable || !v->value[0]),
				    "domread: a value past its size, or an unreadable one with text");
		}
	domread_free(&found);
}

FUZZ_ENTRY(xml_bytes)
{
	uint64_t h = fuzz_hash(data, size);
	const char *fragments[3];
	size_t n = h % 4;
	for (size_t i = 0; i < n; i++)
		fragments[i] = fragment_pool[(h >> (8 + 4 * i)) % 3];
	struct xml_run run;
	uint64_t read_seed = (h >> 32) & 1 ? h | 1 : 0;
	xml_patch_checked(in_fd, out_fd, data, size, fragments, n, read_seed, &run);
	check_reader(data, size, read_seed, &run);
	free(run.out);
	return 0;
}

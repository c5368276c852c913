/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XML patcher fed arbitrary bytes, with 0 to 3 fragments chosen from the
 * input's hash, read in short pieces for half of the inputs.  Checks
 * everything xmlcheck.h lists.
 */
#include <stdlib.h>
#include <unistd.h>

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

FUZZ_ENTRY(xml_bytes)
{
	uint64_t h = fuzz_hash(data, size);
	const char *fragments[3];
	size_t n = h % 4;
	for (size_t i = 0; i < n; i++)
		fragments[i] = fragment_pool[(h >> (8 + 4 * i)) % 3];
	struct xml_run run;
	xml_patch_checked(in_fd, out_fd, data, size, fragments, n, (h >> 32) & 1 ? h | 1 : 0, &run);
	free(run.out);
	return 0;
}

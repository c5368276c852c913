/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_FUZZ_HOSTUSB_IN_H
#define HOSTUSB_FUZZ_HOSTUSB_IN_H
/*
 * What the fuzz targets reach of the program, through its headers: what a
 * run is asked (request.h), the journal (journal.h), the shared text rules.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "journal.h"
#include "request.h"
#include "text.h"

/* Fails unless a refusal's message is one line of printable ASCII. */
static inline void fuzz_check_message(const char *what, const struct error *err)
{
	size_t len = strlen(err->message);
	FUZZ_ASSERT(len > 0, "%s: refused without a message", what);
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT(err->message[i] >= 0x20 && err->message[i] < 0x7f, "%s: byte 0x%02x in the message [%s]",
			    what, (unsigned char)err->message[i], err->message);
}

#endif

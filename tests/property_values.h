/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_TESTS_PROPERTY_VALUES_H
#define HOSTUSB_TESTS_PROPERTY_VALUES_H
/*
 * Values of the hostusb property for checking another statement of its
 * grammar (the engine's regex, the grammar --help prints) against
 * parse_property: valid values of every form and near misses (every
 * character deleted, doubled or changed, numbers at their limits, one entry
 * too many...), each with the parser's verdict.  The same values on every
 * run.
 */
#include <stdbool.h>
#include <stddef.h>

struct values {
	char **text;
	bool *accepted;                 /* parse_property's verdict on text[i] */
	size_t count, cap, valid;
	unsigned forms_valid, forms_refused;  /* bits 1, 2, 4: first entry an id, a serial, a port */
};

/* v filled; exits with a FAIL line when out of memory. */
void property_values(struct values *v);
/* Thousands of values, valid and not, of every form. */
bool property_values_cover(const struct values *v);
void property_values_free(struct values *v);

#endif

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

#endif

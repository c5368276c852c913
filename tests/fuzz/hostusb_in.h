/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_FUZZ_HOSTUSB_IN_H
#define HOSTUSB_FUZZ_HOSTUSB_IN_H
/*
 * Includes hostusb.c itself, to reach its static functions, with its main
 * renamed (to HOSTUSB_MAIN) and its messages sent to fuzz_say_fd.
 */
#include <unistd.h>

#include "fuzz.h"

#undef STDERR_FILENO
#define STDERR_FILENO fuzz_say_fd
#define main HOSTUSB_MAIN
#include "hostusb.c"
#undef main

#endif

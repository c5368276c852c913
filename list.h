/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_LIST_H
#define HOSTUSB_LIST_H
/*
 * `hostusb list`: a line per host USB device on stdout with its port,
 * serial, speed, node owner, the VM holding it and the property value that
 * selects it (plan_property_value); with property_only, those values alone.
 */
#include <stdbool.h>

#include "text.h"

/* 0, or -1 with err set (the scan, the journal, or stdout). */
int list_devices(const char *root, bool property_only, struct error *err);

#endif

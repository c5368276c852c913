/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_HOSTDEV_H
#define HOSTUSB_HOSTDEV_H
/*
 * The domain's USB hostdev text: the <hostdev> element libvirt reads for
 * each device the VM is given, which xmlpatch.c splices into the domain XML
 * as text it knows nothing about.
 */
#include <stddef.h>

#include "usb.h"

#define HOSTDEV_SIZE 256
/* The <hostdev> element for a device; with addr (an id more than one device has), its address too. */
void hostdev_text(struct usb_id id, const struct usb_addr *addr, char *buf, size_t size);

#endif

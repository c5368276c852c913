/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_RESUME_H
#define HOSTUSB_RESUME_H

#include "request.h"

/*
 * Resuming a hibernated VM (or a memory snapshot): the USB hostdevs of the
 * saved domain XML domxml, open as fd (closed here), that the property req
 * could have made must name the devices VM vmid holds now.  0, or -1 having
 * printed one line per hostdev refused (or why it could not check).
 */
int resume_check(const char *root, const char *domxml, int fd, const char *vmid, const struct request *req);

#endif

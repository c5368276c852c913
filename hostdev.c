/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain's USB hostdev text; see hostdev.h. */
#include "hostdev.h"

#include "format.h"

void hostdev_text(struct usb_id id, const struct usb_addr *addr, char *buf, size_t size)
{
	char address[64] = "";
	if (addr)
		format(address, sizeof address, "\n    <address bus='%u' device='%u'/>", addr->bus, addr->device);
	format(buf, size,
	       "<hostdev mode='subsystem' type='usb'>\n"
	       "  <source>\n"
	       "    <vendor id='0x%04x'/>\n"
	       "    <product id='0x%04x'/>%s\n"
	       "  </source>\n"
	       "</hostdev>",
	       id.vendor, id.product, address);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for hostdev.c: the <hostdev> element, with and without the device's address. */
#include "hostdev.h"
#include "check.h"

static void test_hostdev_text(void)
{
	struct usb_id id = { 0x627, 1 };
	struct usb_addr addr = { 2, 13 };
	char text[HOSTDEV_SIZE];
	hostdev_text(id, NULL, text, sizeof text);
	CHECK_STR("hostdev: single match has the original's shape", text,
		  "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x0627'/>\n"
		  "    <product id='0x0001'/>\n  </source>\n</hostdev>");
	hostdev_text(id, &addr, text, sizeof text);
	CHECK_STR("hostdev: an ambiguous id carries the address", text,
		  "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x0627'/>\n"
		  "    <product id='0x0001'/>\n    <address bus='2' device='13'/>\n  </source>\n</hostdev>");
	hostdev_text((struct usb_id){ 0xffff, 0xffff }, &(struct usb_addr){ MAX_BUS_OR_DEVNUM, MAX_BUS_OR_DEVNUM },
		     text, sizeof text);
	size_t len = strlen(text);
	CHECK("hostdev: the longest fits HOSTDEV_SIZE", len < sizeof text - 1 && len > 10 &&
	      strcmp(text + len - 10, "</hostdev>") == 0 && strstr(text, "bus='999' device='999'"));
}

int main(void)
{
	test_hostdev_text();
	return check_status();
}

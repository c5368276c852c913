/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_HOST_H
#define HOSTUSB_HOST_H
/*
 * The host's names and bounds that more than one unit uses, each spelled
 * once.
 */

/* A path on the host, the --root prefix included (Linux's PATH_MAX). */
#define PATH_SIZE 4096

/* Where the device nodes are; a node's name "/dev/bus/usb/BBB/DDD" fits NODE_PATH_SIZE with its NUL. */
#define NODE_DIR       "/dev/bus/usb"
#define NODE_PATH_SIZE 24

/* Where the kernel lists USB devices (sysfs.c scans it; list says when it is missing). */
#define SYSFS_USB_DEVICES "/sys/bus/usb/devices"

/* The largest uid or gid: (uid_t)-1 means "unchanged" to chown, never an owner. */
#define OWNER_MAX 0xfffffffeu

#endif

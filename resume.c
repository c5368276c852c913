/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * before_vm_dehibernate's check: reads the saved domain XML's USB hostdevs
 * (domread.c, hostdev.c), the devices and this VM's journal lines, and
 * prints, for each saved hostdev plan.c refuses, one line naming what it
 * names and what to do.  Changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domread.h"
#include "hostdev.h"
#include "journal.h"
#include "plan.h"
#include "resume.h"
#include "say.h"
#include "sysfs.h"
#include "xmlpatch.h"

/* The saved hostdevs found, as hostdev_read reads them, into saved[0, *n): 0, or -1 having said why. */
static int read_hostdevs_found(const char *domxml, const struct domread_result *found, struct saved_hostdev *saved,
			       size_t *n)
{
	struct error err;
	int rc = 0;
	for (size_t i = 0; i < found->count; i++) {
		struct hostdev_values v = { .line = found->elements[i].line };
		for (size_t f = 0; f < HOSTDEV_FIELDS; f++) {
			const struct domread_value *value = &found->elements[i].values[f];
			v.text[f] = value->present && !value->unreadable ? value->value : NULL;
			v.unreadable[f] = value->unreadable;
		}
		int usb = hostdev_read(&v, &saved[*n], &err);
		if (usb < 0) {
			say("%s: %s", domxml, err.message);
			rc = -1;
		}
		*n += usb > 0;
	}
	return rc;
}

/*
 * The USB hostdevs of the domain XML domxml, open as fd (closed), into
 * *saved (free it): *n of them.  Says why it fails.
 */
static int read_saved_hostdevs(const char *domxml, int fd, struct saved_hostdev **saved, size_t *n)
{
	struct domread_result found;
	struct xmlpatch_error xml_err;
	*saved = NULL;
	*n = 0;
	const struct xmlpatch_input in = { .fd = fd };
	int rc = domread_children(&in, "hostdev", hostdev_fields, HOSTDEV_FIELDS, &found, &xml_err);
	close(fd);
	if (rc < 0) {
		say("%s: %s", domxml, xml_err.message);
		return -1;
	}
	*saved = malloc((found.count + 1) * sizeof **saved);
	if (!*saved) {
		say("%s", strerror(ENOMEM));
		rc = -1;
	} else {
		rc = read_hostdevs_found(domxml, &found, *saved, n);
	}
	domread_free(&found);
	return rc;
}

/*
 * What the check looks at: every device (a resume is rare, and the saved
 * addresses and this VM's lines may name any), and the journal's lines of
 * this VM and of those devices.  Says why it fails.
 */
static int read_for_resume(const char *root, const char *vmid, struct usb_device_list *list, struct journal *j)
{
	struct error err;
	if (sysfs_scan(root, list, &err) < 0) {
		say_error(&err);
		return -1;
	}
	if (journal_read(root, list, vmid, j, &err) < 0) {
		say_error(&err);
		return -1;
	}
	return 0;
}

/* The verdicts on the saved hostdevs; a line for each refused.  0, or -1. */
static int check_resume(const char *vmid, const struct request *req, const struct saved_hostdev *saved, size_t n,
			const struct usb_device_list *list, const struct journal *j)
{
	struct resume_check *checks = malloc(n * sizeof *checks);
	struct error err;
	if (!checks) {
		say("%s", strerror(ENOMEM));
		return -1;
	}
	plan_resume(req, saved, n, list, j, vmid, checks);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (checks[i].verdict != RESUME_REFUSED)
			continue;
		plan_resume_text(&saved[i], &checks[i], j, err.message, sizeof err.message);
		say_error(&err);
		rc = -1;
	}
	free(checks);
	return rc;
}

int resume_check(const char *root, const char *domxml, int fd, const char *vmid, const struct request *req)
{
	struct saved_hostdev *saved;
	size_t n;
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	int rc = read_saved_hostdevs(domxml, fd, &saved, &n);
	if (rc == 0 && n > 0)
		rc = read_for_resume(root, vmid, &list, &j);
	if (rc == 0 && n > 0)
		rc = check_resume(vmid, req, saved, n, &list, &j);
	free(saved);
	journal_free(&j);
	sysfs_free(&list);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel-version difference the kweb-lab modules meet.
 *
 * The stages build unchanged against Debian's 6.1 and 6.12 kernels (and
 * newer ones); whatever differs between versions is hidden here, keyed on
 * LINUX_VERSION_CODE, so that the stage sources stay free of #if.
 */
#ifndef KWEB_COMPAT_H
#define KWEB_COMPAT_H

#include <linux/version.h>
#include <linux/socket.h>

/*
 * kernel_bind() and kernel_connect() take a struct sockaddr_unsized *
 * since 6.19; before, a struct sockaddr *. Passing the wrong one is a hard
 * build error (-Werror=incompatible-pointer-types).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define KWEB_SOCKADDR(addr) ((struct sockaddr_unsized *)(addr))
#else
#define KWEB_SOCKADDR(addr) ((struct sockaddr *)(addr))
#endif

/*
 * kobj_type's child_ns_type() and namespace() take a const struct kobject *
 * since 6.2. Write the callbacks' parameter as
 * "KWEB_KOBJ_CONST struct kobject *kobj".
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define KWEB_KOBJ_CONST const
#else
#define KWEB_KOBJ_CONST
#endif

/*
 * The namespace tag of a sysfs entry, which kobj_type's namespace() returns:
 * since 7.1 a const struct ns_common * (for a network namespace, &net->ns),
 * before a const void * (the struct net itself). KWEB_NS_TAG(net) gives the
 * right one for a struct net *.
 */
struct ns_common;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
typedef const struct ns_common *kweb_ns_tag_t;
#define KWEB_NS_TAG(net) (&(net)->ns)
#else
typedef const void *kweb_ns_tag_t;
#define KWEB_NS_TAG(net) ((const void *)(net))
#endif

#endif /* KWEB_COMPAT_H */

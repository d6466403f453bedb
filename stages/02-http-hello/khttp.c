// SPDX-License-Identifier: GPL-2.0
/*
 * khttp - kweb-lab stage 2: an HTTP server run by kernel threads.
 *
 * One kernel thread blocks in kernel_accept() on the listening socket. Each
 * client it accepts gets a kernel thread of its own, which reads one HTTP
 * request, answers it and closes the connection.
 *
 * A request is read up to the empty line that ends its head (request line
 * and header fields), at most KWEB_MAX_HEADER bytes, and a client that goes
 * silent for KWEB_TIMEOUT is dropped: no client may pin a thread forever.
 * GET and HEAD get a short greeting; anything else gets an error status.
 *
 * Unloading must never leave a thread running module code that is about to
 * be freed, so the exit path wakes every sleeper before it stops it:
 * shutting a socket down makes the kernel_accept() or kernel_recvmsg()
 * sleeping on it return, and kthread_stop() then waits for the thread to
 * finish.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "compat.h"

#define KWEB_BACKLOG	128
#define KWEB_MAX_HEADER	8192		/* bytes of request head we accept */
#define KWEB_TIMEOUT	(10 * HZ)	/* of silence before we give up */

static char *host = "0.0.0.0";
module_param(host, charp, 0444);
MODULE_PARM_DESC(host, "IPv4 address to listen on (default 0.0.0.0)");

static int port = 9999;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port to listen on (default 9999)");

/* An answer: the status line's code and reason, and the body. */
struct kweb_reply {
	const char *status;
	const char *body;
};

static const struct kweb_reply kweb_ok = {
	"200 OK", "Hello from kweb-lab!\n"
};
static const struct kweb_reply kweb_bad_request = {
	"400 Bad Request", "Bad Request\n"
};
static const struct kweb_reply kweb_too_large = {
	"431 Request Header Fields Too Large",
	"Request Header Fields Too Large\n"
};
static const struct kweb_reply kweb_not_implemented = {
	"501 Not Implemented", "Not Implemented\n"
};

/* One connected client and the thread that serves it. */
struct kweb_client {
	struct socket *sock;
	struct task_struct *thread;
	bool done;			/* the thread has finished serving */
	struct list_head list;
};

static struct socket *listen_sock;
static struct task_struct *accept_thread;

/*
 * Clients not yet reaped. Only the accept thread touches the list while the
 * module runs, and only the exit path after the accept thread has stopped,
 * so the list needs no lock.
 */
static LIST_HEAD(clients);

/* Send all of buf, or fail. */
static int kweb_send_all(struct socket *sock, const char *buf, size_t len)
{
	while (len > 0) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		struct kvec vec = { .iov_base = (char *)buf, .iov_len = len };
		int sent = kernel_sendmsg(sock, &msg, &vec, 1, len);

		if (sent <= 0)
			return sent ? sent : -EPIPE;
		buf += sent;
		len -= sent;
	}
	return 0;
}

/*
 * Receive into buf. Returns the number of bytes, 0 when the client has
 * closed or the socket was shut down, -EAGAIN when the client has sent
 * nothing for KWEB_TIMEOUT, or another negative error.
 */
static int kweb_recv(struct socket *sock, char *buf, size_t size)
{
	struct msghdr msg = { };
	struct kvec vec = { .iov_base = buf, .iov_len = size };

	return kernel_recvmsg(sock, &msg, &vec, 1, size, 0);
}

/*
 * The length of the request head in buf[0..len), up to and including the
 * empty line that ends it, or 0 if that line is not there yet. Lines end in
 * CRLF, or in a bare LF. Bytes before buf[from] were searched already.
 */
static size_t kweb_head_len(const char *buf, size_t from, size_t len)
{
	size_t i;

	for (i = max_t(size_t, from, 1); i < len; i++)
		if (buf[i] == '\n' &&
		    (buf[i - 1] == '\n' ||
		     (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')))
			return i + 1;
	return 0;
}

/*
 * Read the request head into buf, which holds KWEB_MAX_HEADER bytes. Returns
 * its length, -E2BIG if it does not fit, or 0 or another negative error if
 * the client closes, goes silent or the socket is shut down first.
 */
static int kweb_read_request(struct socket *sock, char *buf)
{
	size_t len = 0;

	while (len < KWEB_MAX_HEADER) {
		size_t head;
		int n;

		n = kweb_recv(sock, buf + len, KWEB_MAX_HEADER - len);
		if (n <= 0)
			return n;
		head = AAAA;
		if (head)
			return head;
		len += n;
	}
	return -E2BIG;
}

/* A method is a token: letters, digits and a few punctuation characters. */
static bool kweb_is_method(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* A request target is made of visible characters. */
static bool kweb_is_target(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isgraph(*s))
			return false;
	return true;
}

/*
 * Choose the reply to the request head in buf[0..len). The request line must
 * be "METHOD SP target SP HTTP/1.x"; GET and HEAD are served, other methods
 * are not. Sets *head for HEAD, whose reply has no body. The request line is
 * cut into strings in place.
 */
static const struct kweb_reply *kweb_parse(char *buf, size_t len, bool *head)
{
	char *method = buf, *target, *version, *eol;

	/* There is one: the head ends with an empty line. */
	eol = memchr(buf, '\n', len);
	if (eol > buf && eol[-1] == '\r')
		eol--;
	*eol = '\0';

	target = strchr(method, ' ');
	if (!target)
		return &kweb_bad_request;
	*target++ = '\0';
	version = strchr(target, ' ');
	if (!version)
		return &kweb_bad_request;
	*version++ = '\0';

	if (!kweb_is_method(method) || !kweb_is_target(target) ||
	    strlen(version) != 8 || strncmp(version, "HTTP/1.", 7) ||
	    !isdigit(version[7]))
		return &kweb_bad_request;

	if (!strcmp(method, "GET"))
		return &kweb_ok;
	if (!strcmp(method, "HEAD")) {
		*head = true;
		return &kweb_ok;
	}
	return &kweb_not_implemented;
}

/*
 * Send the reply, built in buf. A reply to HEAD carries the headers a GET
 * would get, Content-Length included, but no body.
 */
static int kweb_respond(struct socket *sock, char *buf,
			const struct kweb_reply *reply, bool head)
{
	int len;

	len = scnprintf(buf, KWEB_MAX_HEADER,
			"HTTP/1.1 %s\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Length: %zu\r\n"
			"Connection: close\r\n"
			"\r\n"
			"%s",
			reply->status, BBBB,
			CCCC);
	return DDDD;
}

/*
 * Closing a socket that still holds unread data makes TCP send a reset,
 * which can destroy the reply before the client has read it. So after our
 * FIN, read and drop whatever the client still sends until it closes too,
 * or until KWEB_TIMEOUT has passed.
 */
static void kweb_drain(struct socket *sock, char *buf)
{
	unsigned long deadline = jiffies + KWEB_TIMEOUT;

	while (time_before(jiffies, deadline) &&
	       kweb_recv(sock, buf, KWEB_MAX_HEADER) > 0)
		;
}

/* Serve one connection: read the request, answer it, close politely. */
static void kweb_handle(struct socket *sock, char *buf)
{
	const struct kweb_reply *reply;
	bool head = false;
	int len;

	/* A client that goes silent must not keep us waiting forever. */
	sock->sk->sk_rcvtimeo = KWEB_TIMEOUT;
	sock->sk->sk_sndtimeo = KWEB_TIMEOUT;
	len = kweb_read_request(sock, buf);
	if (len == -E2BIG)
		reply = &kweb_too_large;
	else if (len > 0)
		reply = kweb_parse(buf, len, &head);
	else
		return;		/* nothing to answer, or nobody to answer to */

	if (kweb_respond(sock, buf, reply, head))
		return;
	EEEE;
	kweb_drain(sock, buf);
}

static int kweb_client_thread(void *data)
{
	struct kweb_client *client = data;
	char *buf;

	buf = kmalloc(KWEB_MAX_HEADER, GFP_KERNEL);
	if (buf) {
		kweb_handle(client->sock, buf);
		kfree(buf);
	}
	kernel_sock_shutdown(client->sock, SHUT_RDWR);
	/* Pairs with READ_ONCE() in kweb_reap(). */
	WRITE_ONCE(client->done, true);
	return 0;
}

/*
 * Stop one client's thread and free what it used. kthread_stop() waits until
 * the thread function has returned; the reference taken in kweb_serve()
 * keeps the task valid even if the thread finished long ago.
 */
static void kweb_release(struct kweb_client *client)
{
	list_del(&client->list);
	kernel_sock_shutdown(client->sock, SHUT_RDWR);
	kthread_stop(client->thread);
	put_task_struct(client->thread);
	sock_release(client->sock);
	kfree(client);
}

/* Free the clients whose threads have finished on their own. */
static void kweb_reap(void)
{
	struct kweb_client *client, *tmp;

	list_for_each_entry_safe(client, tmp, &clients, list)
		if (READ_ONCE(client->done))
			kweb_release(client);
}

/* Start a thread for a newly accepted client; consumes sock on failure. */
static void kweb_serve(struct socket *sock)
{
	struct kweb_client *client;

	client = kzalloc(sizeof(*client), GFP_KERNEL);
	if (!client)
		goto err_release;
	client->sock = sock;
	client->thread = kthread_create(kweb_client_thread, client,
					"khttp/client");
	if (IS_ERR(client->thread)) {
		pr_warn("cannot start a client thread: %ld\n",
			PTR_ERR(client->thread));
		goto err_free;
	}
	get_task_struct(client->thread);
	list_add_tail(&client->list, &clients);
	wake_up_process(client->thread);
	return;

err_free:
	kfree(client);
err_release:
	sock_release(sock);
}

static int kweb_accept_thread(void *data)
{
	while (!kthread_should_stop()) {
		struct socket *sock;
		int err;

		err = kernel_accept(listen_sock, &sock, 0);
		if (err == -EINVAL) {
			/*
			 * The listener was shut down: the module is unloading.
			 * Sleep until kthread_stop() wakes us.
			 */
			set_current_state(TASK_INTERRUPTIBLE);
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (err < 0) {
			pr_warn_ratelimited("accept failed: %d\n", err);
			continue;
		}
		kweb_reap();
		kweb_serve(sock);
	}
	return 0;
}

static int kweb_listen(struct socket **res, __be32 addr, u16 port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = addr,
		.sin_port = htons(port),
	};
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err < 0)
		return err;
	sock_set_reuseaddr(sock->sk);
	err = kernel_bind(sock, KWEB_SOCKADDR(&sin), sizeof(sin));
	if (err < 0)
		goto err_release;
	err = kernel_listen(sock, KWEB_BACKLOG);
	if (err < 0)
		goto err_release;
	*res = sock;
	return 0;

err_release:
	sock_release(sock);
	return err;
}

static int __init kweb_init(void)
{
	__be32 addr;
	int err;

	if (!in4_pton(host, -1, (u8 *)&addr, -1, NULL)) {
		pr_err("host=%s is not an IPv4 address\n", host);
		return -EINVAL;
	}
	if (port < 1 || port > 65535) {
		pr_err("port=%d is not in 1..65535\n", port);
		return -EINVAL;
	}

	err = kweb_listen(&listen_sock, addr, port);
	if (err < 0) {
		pr_err("cannot listen on %s:%d: %d\n", host, port, err);
		return err;
	}

	accept_thread = kthread_run(kweb_accept_thread, NULL, "khttp");
	if (IS_ERR(accept_thread)) {
		err = PTR_ERR(accept_thread);
		pr_err("cannot start the accept thread: %d\n", err);
		sock_release(listen_sock);
		return err;
	}

	pr_info("HTTP server listening on %s:%d\n", host, port);
	return 0;
}

static void __exit kweb_exit(void)
{
	struct kweb_client *client, *tmp;

	/* Wake the accept thread out of kernel_accept(), then stop it. */
	kernel_sock_shutdown(listen_sock, SHUT_RDWR);
	kthread_stop(accept_thread);

	/* No new client can appear now: stop and free every one left. */
	list_for_each_entry_safe(client, tmp, &clients, list)
		kweb_release(client);

	sock_release(listen_sock);
	pr_info("HTTP server stopped\n");
}

module_init(kweb_init);
module_exit(kweb_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kweb-lab");
MODULE_DESCRIPTION("kweb-lab stage 2: HTTP server in kernel threads");

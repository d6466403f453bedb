// SPDX-License-Identifier: GPL-2.0
/*
 * kweb - kweb-lab stage 4: the HTTP server of stage 3, started and stopped
 * through sysfs.
 *
 * Writing 1 to /sys/kernel/webserver/net/data/status starts the server,
 * writing 0 stops it, reading it tells which of the two it is. The module
 * loads with the server stopped.
 *
 * No thread waits in kernel_accept() any more. The listening socket's
 * sk_data_ready callback, which the network stack calls when a connection
 * is ready to be accepted, queues the accept work item; that accepts every
 * waiting connection without blocking and queues one work item per client,
 * which reads one HTTP request, answers it and closes the connection.
 *
 * A request is read up to the empty line that ends its head (request line
 * and header fields), at most KWEB_MAX_HEADER bytes, and a client that goes
 * silent for KWEB_TIMEOUT is dropped: no client may pin a worker forever.
 * GET and HEAD get a short greeting; anything else gets an error status.
 *
 * Unloading must never leave a work item running module code that is about
 * to be freed, so the exit path first makes sure no new work can be queued,
 * then wakes every sleeper and waits for its work: shutting a socket down
 * makes the kernel_recvmsg() sleeping on it return, and cancel_work_sync()
 * waits for a running work item to finish.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <net/tcp_states.h>

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

/* One connected client and the work item that serves it. */
struct client_work_queue {
	struct socket *sock;
	struct work_struct work;
	bool done;			/* the work has finished serving */
	struct list_head list;
};

/* A server: its listening socket and the clients it accepted. */
struct kweb_server {
	struct mutex lock;		/* serializes starting and stopping */
	struct socket *listen_sock;	/* NULL while the server is stopped */
	/* The listener's sk_data_ready before kweb_start() replaced it. */
	void (*orig_data_ready)(struct sock *sk);
	struct work_struct accept_work;
	/*
	 * Clients not yet reaped. Only the accept work touches the list while
	 * the server runs, and only kweb_stop() after it has cancelled the
	 * accept work, so the list needs no lock.
	 */
	struct list_head clients;
};

/*
 * All work runs on a workqueue of our own, so that nothing this module
 * queued can outlive it: destroy_workqueue() waits for whatever is left.
 * (system_wq cannot be flushed by a module, and a work item there would have
 * to be cancelled one by one.) WQ_UNBOUND: a client's work sleeps for up to
 * KWEB_TIMEOUT and need not stay on the CPU that queued it.
 */
static struct workqueue_struct *kweb_wq;

static __be32 listen_addr;
static struct kweb_server server;

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
		head = kweb_head_len(buf, len, len + n);
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
			reply->status, strlen(reply->body),
			head ? "" : reply->body);
	return kweb_send_all(sock, buf, len);
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
	kernel_sock_shutdown(sock, SHUT_WR);
	kweb_drain(sock, buf);
}

static void client_handler(struct work_struct *work)
{
	struct client_work_queue *client;
	char *buf;

	client = AAAA;
	buf = kmalloc(KWEB_MAX_HEADER, GFP_KERNEL);
	if (buf) {
		kweb_handle(client->sock, buf);
		kfree(buf);
	}
	kernel_sock_shutdown(client->sock, SHUT_RDWR);
	/* Pairs with READ_ONCE() in kweb_reap(). */
	WRITE_ONCE(client->done, true);
}

/*
 * Wait for one client's work and free what it used. cancel_work_sync()
 * returns once the work is neither queued nor running: work still waiting
 * in the queue never runs, work that runs has returned.
 */
static void kweb_release(struct client_work_queue *client)
{
	list_del(&client->list);
	kernel_sock_shutdown(client->sock, SHUT_RDWR);
	cancel_work_sync(&client->work);
	sock_release(client->sock);
	kfree(client);
}

/* Free the clients whose work has finished on its own. */
static void kweb_reap(struct kweb_server *srv)
{
	struct client_work_queue *client, *tmp;

	list_for_each_entry_safe(client, tmp, &srv->clients, list)
		if (READ_ONCE(client->done))
			kweb_release(client);
}

/* Queue the work for a newly accepted client; consumes sock on failure. */
static void kweb_serve(struct kweb_server *srv, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct client_work_queue *client;

	/*
	 * The new socket is a clone of the listener and inherited its
	 * callback and sk_user_data: give it back the default ones.
	 */
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = srv->orig_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);

	client = kzalloc(sizeof(*client), GFP_KERNEL);
	if (!client) {
		sock_release(sock);
		return;
	}
	client->sock = sock;
	INIT_WORK(&client->work, client_handler);
	list_add_tail(&client->list, &srv->clients);
	BBBB;
}

/*
 * The listener's sk_data_ready: a connection is ready to be accepted. The
 * network stack calls it in atomic context, so it only queues the accept
 * work, which may sleep.
 */
static void kweb_data_ready(struct sock *sk)
{
	struct kweb_server *srv;

	/*
	 * Only a listener has connections to accept. The listener's clones
	 * call this too, for data of their own, until kweb_serve() resets
	 * them: test the state before taking the lock, as nvmet-tcp does, so
	 * that such calls never touch the lock or sk_user_data.
	 */
	if (sk->sk_state != TCP_LISTEN)
		return;

	read_lock_bh(&sk->sk_callback_lock);
	srv = sk->sk_user_data;
	if (srv)
		queue_work(kweb_wq, &srv->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* Accept every connection that is waiting, without blocking. */
static void kweb_accept_work(struct work_struct *work)
{
	struct kweb_server *srv;
	struct socket *sock;
	int err;

	srv = container_of(work, struct kweb_server, accept_work);
	kweb_reap(srv);
	for (;;) {
		err = kernel_accept(srv->listen_sock, &sock, O_NONBLOCK);
		if (err < 0)
			break;
		kweb_serve(srv, sock);
	}
	/* -EAGAIN: no connection is left waiting. */
	if (err != -EAGAIN)
		pr_warn_ratelimited("accept failed: %d\n", err);
}

static int kweb_start(struct kweb_server *srv)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = listen_addr,
		.sin_port = htons(port),
	};
	struct socket *sock;
	struct sock *sk;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err < 0)
		goto err_out;
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	srv->listen_sock = sock;

	/* Before listening, so that no connection goes unnoticed. */
	write_lock_bh(&sk->sk_callback_lock);
	srv->orig_data_ready = sk->sk_data_ready;
	sk->sk_user_data = srv;
	sk->sk_data_ready = kweb_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);

	err = kernel_bind(sock, KWEB_SOCKADDR(&sin), sizeof(sin));
	if (err < 0)
		goto err_release;
	err = kernel_listen(sock, KWEB_BACKLOG);
	if (err < 0)
		goto err_release;
	pr_info("HTTP server listening on %s:%d\n", host, port);
	return 0;

err_release:
	/* Not listening: the callback never queued the accept work. */
	sock_release(sock);
	srv->listen_sock = NULL;
err_out:
	pr_err("cannot listen on %s:%d: %d\n", host, port, err);
	return err;
}

/*
 * The order matters: once the callback is restored nothing queues the
 * accept work; once that is cancelled (and waited for) nothing uses the
 * listener or adds clients, so the listener can be released and then the
 * clients finished. Releasing the listener while the accept work may still
 * run would be a use-after-free.
 */
static void kweb_stop(struct kweb_server *srv)
{
	struct sock *sk = srv->listen_sock->sk;
	struct client_work_queue *client, *tmp;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = srv->orig_data_ready;
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);

	CCCC;

	/*
	 * Nothing can queue the accept work now, so the listener can go:
	 * connections still waiting in its backlog are reset.
	 */
	kernel_sock_shutdown(srv->listen_sock, SHUT_RDWR);
	sock_release(srv->listen_sock);
	srv->listen_sock = NULL;

	/* No new client can appear either: stop and free every one left. */
	list_for_each_entry_safe(client, tmp, &srv->clients, list)
		kweb_release(client);
	pr_info("HTTP server stopped\n");
}

static void kweb_server_init(struct kweb_server *srv)
{
	mutex_init(&srv->lock);
	INIT_WORK(&srv->accept_work, kweb_accept_work);
	INIT_LIST_HEAD(&srv->clients);
}

static ssize_t status_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct kweb_server *srv = &server;
	bool running;

	mutex_lock(&srv->lock);
	running = srv->listen_sock;
	mutex_unlock(&srv->lock);
	return DDDD;
}

/*
 * Writing 1 starts the server and 0 stops it; either is harmless when the
 * server is in that state already. Anything else is refused and changes
 * nothing. The mutex keeps two writers from starting the server twice.
 */
static ssize_t status_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct kweb_server *srv = &server;
	int on, err = 0;

	if (EEEE || (on != 0 && on != 1))
		return -EINVAL;

	mutex_lock(&srv->lock);
	if (on && !srv->listen_sock)
		err = kweb_start(srv);
	else if (!on && srv->listen_sock)
		kweb_stop(srv);
	mutex_unlock(&srv->lock);
	return err ? err : count;
}

static struct kobj_attribute status_attr = __ATTR_RW(status);

static struct attribute *kweb_data_attrs[] = {
	&status_attr.attr,
	NULL
};
ATTRIBUTE_GROUPS(kweb_data);

/* /sys/kernel/webserver/net/data/status */
static struct kobject *webserver_kobj, *net_kobj, *data_kobj;

static int kweb_sysfs_init(void)
{
	int err = -ENOMEM;

	webserver_kobj = kobject_create_and_add("webserver", kernel_kobj);
	if (!webserver_kobj)
		return -ENOMEM;
	net_kobj = kobject_create_and_add("net", webserver_kobj);
	if (!net_kobj)
		goto err_webserver;
	data_kobj = kobject_create_and_add("data", net_kobj);
	if (!data_kobj)
		goto err_net;
	err = sysfs_create_groups(data_kobj, kweb_data_groups);
	if (err)
		goto err_data;
	return 0;

err_data:
	kobject_del(data_kobj);
	kobject_put(data_kobj);
err_net:
	kobject_del(net_kobj);
	kobject_put(net_kobj);
err_webserver:
	kobject_del(webserver_kobj);
	kobject_put(webserver_kobj);
	return err;
}

/*
 * kobject_del() removes a directory and its files at once, and waits for the
 * status_store() calls in progress: once it returns, no write can start the
 * server any more. kobject_put() alone would not do: the kobject goes with its
 * last reference, which may be later (CONFIG_DEBUG_KOBJECT_RELEASE delays it
 * on purpose), and until then the status file would call into this module.
 */
static void kweb_sysfs_exit(void)
{
	kobject_del(data_kobj);
	kobject_del(net_kobj);
	kobject_del(webserver_kobj);
	kobject_put(data_kobj);
	kobject_put(net_kobj);
	kobject_put(webserver_kobj);
}

static int __init kweb_init(void)
{
	int err;

	if (!in4_pton(host, -1, (u8 *)&listen_addr, -1, NULL)) {
		pr_err("host=%s is not an IPv4 address\n", host);
		return -EINVAL;
	}
	if (port < 1 || port > 65535) {
		pr_err("port=%d is not in 1..65535\n", port);
		return -EINVAL;
	}

	kweb_wq = alloc_workqueue("kweb", WQ_UNBOUND, 0);
	if (!kweb_wq)
		return -ENOMEM;
	kweb_server_init(&server);

	err = kweb_sysfs_init();
	if (err < 0)
		goto err_wq;
	pr_info("loaded; write 1 to /sys/kernel/webserver/net/data/status to start\n");
	return 0;

err_wq:
	destroy_workqueue(kweb_wq);
	return err;
}

static void __exit kweb_exit(void)
{
	kweb_sysfs_exit();
	if (server.listen_sock)
		kweb_stop(&server);
	destroy_workqueue(kweb_wq);
}

module_init(kweb_init);
module_exit(kweb_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kweb-lab");
MODULE_DESCRIPTION("kweb-lab stage 4: HTTP server controlled through sysfs");

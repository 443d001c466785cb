#!/usr/bin/env bash
# make demo-socket: the tutorial's server.c / client.c: one server, three clients at once,
# then the same over a Unix domain socket and over UDP datagrams.
source "$(dirname "$0")/lib.sh"

# server_port NAME: the port NAME printed in its ready line (we ask the kernel for a free one
# with --port 0, so the demo never collides with a server already running on 9734).
server_port() {
  sed -n 's/^server waiting on .*:\([0-9][0-9]*\).*/\1/p' "$DEMO_TMP/$1.log" | head -n 1
}

section "TCP: socket-server serves three socket-clients at once (server.c / client.c)"
start server socket-server --port 0 --clients 3
wait_ready server "server waiting" 10
port=$(server_port server)
start alice socket-client localhost --port "$port" --message "hello from alice" --message "how are you?"
start bob socket-client localhost --port "$port" --message "bob here" --message "ünïcödé and  spaces"
start carol socket-client localhost --port "$port" --count 1000 --size 1K
finish alice
finish bob
finish carol
finish server

section "Unix domain socket: the server's name is a path; it is removed when the server exits"
sock="$DEMO_TMP/sock"
start unix-server socket-server --unix "$sock" --clients 1
wait_ready unix-server "server waiting" 10
run client socket-client --unix "$sock" --message "through a socket file" --message "no network involved"
finish unix-server
if [ -e "$sock" ]; then echo "demo: $sock was left behind" >&2; exit 1; fi

section "UDP: one datagram per message, each acknowledged (no connection, no promise of order or delivery)"
start udp-server socket-server --udp --port 0 --clients 2
wait_ready udp-server "server waiting" 10
port=$(server_port udp-server)
start one socket-client --udp --port "$port" --message "a datagram"
start two socket-client --udp --port "$port" --count 500 --size 200
finish one
finish two
finish udp-server

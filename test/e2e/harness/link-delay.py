#!/usr/bin/env python3
# Link delay for the test harness, in place of netem (which this kernel lacks): an NFQUEUE
# listener in the run's switch namespace. iptables rules there send the frames bridged to or from
# a delayed host's port to queue QUEUE; each one is held here for the delay of its ingress port
# plus that of its egress port (each with its own uniform jitter), then accepted. Frames between
# the same two ports leave in the order they came (a later one never overtakes an earlier one),
# as on a wire. The packets themselves stay in the kernel: only their ids come up here
# (copy mode "meta"), so throughput is bounded by one netlink message per packet, not by size.
#
# Usage: link-delay.py QUEUE SEED, in the namespace of the bridge. Reads commands on stdin, one a
# line, and answers each on stdout ("ok" or "error: ..."):
#   set PORT DELAY_MS JITTER_MS     delay of the bridge port PORT (an interface name); 0 0 ends it
# Prints "ready" once bound to the queue; exits (unbinding) when stdin closes, so it never
# outlives the harness process. Packets left unanswered at exit are accepted by the kernel
# (--queue-bypass only helps while unbound; a dying listener's queue is flushed with NF_ACCEPT).
#
# Only the Python standard library is used: raw AF_NETLINK sockets speak nfnetlink_queue.
import heapq
import os
import random
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQA_CFG_F_FAIL_OPEN = 1
NFQA_CFG_F_GSO = 4
NFQNL_COPY_META = 1
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_IFINDEX_INDEV = 5
NFQA_IFINDEX_OUTDEV = 6
NFQA_IFINDEX_PHYSINDEV = 7
NFQA_IFINDEX_PHYSOUTDEV = 8
NF_ACCEPT = 1
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
SO_RCVBUFFORCE = 33
QUEUE_MAXLEN = 20000


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(msg_type, flags, queue, attrs, seq=0):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def parse_attrs(data):
    out = {}
    at = 0
    while at + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, at)
        if length < 4:
            break
        out[kind & 0x7FFF] = data[at + 4 : at + length]
        at += (length + 3) & ~3
    return out


class Delayer:
    def __init__(self, queue, seed):
        self.queue = queue
        self.rng = random.Random(seed)
        self.delays = {}  # ifindex -> (delay s, jitter s)
        self.last = {}  # (in, out) -> release time of the latest packet between them
        self.heap = []  # (release time, seq, packet id)
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)

    def configure(self, attrs):
        self.seq += 1
        self.sock.send(message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, self.queue, attrs, self.seq))
        while True:
            data = self.sock.recv(65536)
            kind = struct.unpack_from("=H", data, 4)[0]
            if kind == NLMSG_ERROR:
                err = struct.unpack_from("=i", data, 16)[0]
                if err != 0:
                    raise OSError(-err, os.strerror(-err))
                return

    def bind(self):
        self.configure([attr(NFQA_CFG_CMD, struct.pack("=BBH", NFQNL_CFG_CMD_BIND, 0, 0))])
        self.configure([attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))])
        self.configure([attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN))])
        flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO
        self.configure([attr(NFQA_CFG_MASK, struct.pack("!I", flags)), attr(NFQA_CFG_FLAGS, struct.pack("!I", flags))])

    def unbind(self):
        try:
            self.configure([attr(NFQA_CFG_CMD, struct.pack("=BBH", NFQNL_CFG_CMD_UNBIND, 0, 0))])
        except OSError:
            pass

    def verdict(self, packet_id):
        hdr = attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        self.sock.send(message(NFQNL_MSG_VERDICT, NLM_F_REQUEST, self.queue, [hdr]))

    def port_delay(self, ifindex):
        d = self.delays.get(ifindex)
        if d is None:
            return 0.0
        delay, jitter = d
        return max(0.0, delay + (self.rng.uniform(-jitter, jitter) if jitter > 0 else 0.0))

    def on_packet(self, data, now):
        attrs = parse_attrs(data[4:])  # after the nfgenmsg
        hdr = attrs.get(NFQA_PACKET_HDR)
        if hdr is None:
            return
        packet_id = struct.unpack_from("!I", hdr, 0)[0]

        def ifindex(phys, plain):
            raw = attrs.get(phys) or attrs.get(plain)
            return struct.unpack("!I", raw[:4])[0] if raw else 0

        src = ifindex(NFQA_IFINDEX_PHYSINDEV, NFQA_IFINDEX_INDEV)
        dst = ifindex(NFQA_IFINDEX_PHYSOUTDEV, NFQA_IFINDEX_OUTDEV)
        delay = self.port_delay(src) + self.port_delay(dst)
        release = max(now + delay, self.last.get((src, dst), 0.0))
        self.last[(src, dst)] = release
        if release <= now:
            self.verdict(packet_id)
            return
        self.seq += 1
        heapq.heappush(self.heap, (release, self.seq, packet_id))

    def release_due(self, now):
        while self.heap and self.heap[0][0] <= now:
            self.verdict(heapq.heappop(self.heap)[2])

    def command(self, line):
        parts = line.split()
        if len(parts) == 4 and parts[0] == "set":
            index = socket.if_nametoindex(parts[1])
            delay, jitter = float(parts[2]) / 1000, float(parts[3]) / 1000
            if delay <= 0 and jitter <= 0:
                self.delays.pop(index, None)
            else:
                self.delays[index] = (delay, jitter)
            return "ok"
        raise ValueError(f"unknown command {line!r}")

    def run(self):
        self.bind()
        print("ready", flush=True)
        stdin = sys.stdin.fileno()
        pending = b""
        while True:
            timeout = None
            if self.heap:
                timeout = max(0.0, self.heap[0][0] - time.monotonic())
            readable, _, _ = select.select([self.sock, stdin], [], [], timeout)
            if self.sock in readable:
                # Drain what is queued without blocking, then release what is due.
                while True:
                    try:
                        data = self.sock.recv(65536, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    kind = struct.unpack_from("=H", data, 4)[0]
                    if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                        self.on_packet(data[16:], time.monotonic())
            if stdin in readable:
                chunk = os.read(stdin, 4096)
                if not chunk:
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    try:
                        answer = self.command(line.decode().strip())
                    except (OSError, ValueError) as err:
                        answer = f"error: {err}"
                    print(answer, flush=True)
            self.release_due(time.monotonic())
        for _, _, packet_id in sorted(self.heap):
            self.verdict(packet_id)
        self.unbind()


if __name__ == "__main__":
    Delayer(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1).run()

#!/usr/bin/python3
"""
Sentinel camera simulator: a real RTSP server (GStreamer gst-rtsp-server) serving footage
files as looped live cameras at rtsp://HOST:PORT/<name>.

Each stream has a producer: ffmpeg reads the file in real time (-re), loops it forever
(-stream_loop -1) and encodes H.264 with a 1 s GOP into MPEG-TS over local UDP. The RTSP
server's media for that stream reads the UDP port, so every client sees one shared live
camera (as with a real camera, joining mid-stream), with timestamps that keep growing across
loops. Looping in ffmpeg rather than GStreamer avoids seek-on-EOS tricks and timestamp jumps.

A stream marked ",copy=1" is already H.264 (MPEG-TS, pre-encoded once by sim.ts's
preencode()): its producer only loops and packetises it (-c:v copy), with no encoder per
stream, so dozens of cameras cost the simulator almost nothing (the capacity benchmark).

Control (to simulate a dropped camera):
  - stdin, one command a line: "stop NAME", "start NAME", "list" (each stream with its count
    of RTSP client sessions); replies are JSON lines on stdout. EOF on stdin (the parent process died or closed it) stops the simulator.
  - HTTP on --control-port: POST /streams/NAME/stop, POST /streams/NAME/start, GET /streams.

"stop" removes the mount, disconnects the clients of that stream and kills its producer, so
a client sees the connection close and then 404 until "start" brings it back.

Run with Debian's /usr/bin/python3 (it owns the python3-gi bindings). Usage:
  rtsp_sim.py --port 8554 --control-port 8555 --stream NAME=FILE[,auth=USER:PASS][,size=WxH][,fps=N][,copy=1] ...
"""
import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In a child: get SIGKILL when the simulator dies, however it dies (no orphan ffmpeg)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # not Linux: the stdin-EOF path and the kill on exit still apply
        pass


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Stream:
    def __init__(self, sim, name, path, auth=None, size=None, fps=None, copy=False):
        self.sim = sim
        self.copy = copy
        self.name = name
        self.path = path
        self.auth = auth
        self.size = size
        self.fps = fps
        self.udp_port = free_udp_port()
        self.producer = None
        self.factory = None
        self.medias = []
        self.running = False

    def producer_args(self):
        if self.copy:
            return [
                self.sim.ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
                "-re", "-stream_loop", "-1", "-i", self.path, "-an", "-c:v", "copy",
                "-payload_type", "96", "-f", "rtp", "rtp://127.0.0.1:%d?pkt_size=1200" % self.udp_port,
            ]
        vf = []
        if self.size:
            vf.append("scale=%s" % self.size.replace("x", ":"))
        if self.fps:
            vf.append("fps=%s" % self.fps)
        args = [
            self.sim.ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
            "-re", "-stream_loop", "-1", "-i", self.path, "-an",
        ]
        if vf:
            args += ["-vf", ",".join(vf)]
        args += [
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-pix_fmt", "yuv420p", "-g", "10", "-keyint_min", "10", "-sc_threshold", "0",
            "-payload_type", "96", "-f", "rtp", "rtp://127.0.0.1:%d?pkt_size=1200" % self.udp_port,
        ]
        return args

    def start(self):
        if self.running:
            return
        # stdout: ffmpeg's RTP muxer prints an SDP there, and our stdout carries JSON replies.
        self.producer = subprocess.Popen(self.producer_args(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent)
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            "( udpsrc port=%d buffer-size=2097152 caps=\"application/x-rtp,media=(string)video,clock-rate=(int)90000,encoding-name=(string)H264,payload=(int)96\" "
            "! rtpjitterbuffer latency=100 ! rtph264depay ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=1 )" % self.udp_port
        )
        factory.set_shared(True)
        factory.connect("media-configure", self.on_media_configure)
        perms = GstRtspServer.RTSPPermissions()
        # A protected stream still lists the anonymous role (without access) so that a client
        # without credentials gets 401 Unauthorized, as from a real camera, not 404.
        for role in ("user", "anonymous"):
            allowed = role == "user" or not self.auth
            perms.add_permission_for_role(role, "media.factory.access", allowed)
            perms.add_permission_for_role(role, "media.factory.construct", allowed)
        factory.set_permissions(perms)
        self.factory = factory
        self.sim.server.get_mount_points().add_factory("/" + self.name, factory)
        self.running = True

    def on_media_configure(self, _factory, media):
        self.medias.append(media)
        media.connect("unprepared", lambda m: self.medias.remove(m) if m in self.medias else None)

    def stop(self):
        if not self.running:
            return
        self.running = False
        self.sim.server.get_mount_points().remove_factory("/" + self.name)
        medias = list(self.medias)

        def client_filter(_server, client):
            hit = False

            def session_filter(_client, sess):
                nonlocal hit
                for sm in sess.filter(None):
                    if sm.get_media() in medias:
                        hit = True
                return GstRtspServer.RTSPFilterResult.KEEP

            client.session_filter(session_filter)
            return GstRtspServer.RTSPFilterResult.REMOVE if hit else GstRtspServer.RTSPFilterResult.KEEP

        self.sim.server.client_filter(client_filter)
        for m in medias:
            m.unprepare()
        self.kill_producer()

    def kill_producer(self):
        p, self.producer = self.producer, None
        if p and p.poll() is None:
            p.kill()
            p.wait()

    def session_count(self):
        """RTSP client sessions (SETUP done, not torn down) on this stream's media right now."""
        medias = list(self.medias)
        count = 0

        def session_filter(_pool, sess, *_):
            nonlocal count
            if any(sm.get_media() in medias for sm in sess.filter(None)):
                count += 1
            return GstRtspServer.RTSPFilterResult.KEEP

        self.sim.server.get_session_pool().filter(session_filter)
        return count

    def info(self):
        return {
            "name": self.name, "running": self.running, "url": "rtsp://%s:%d/%s" % (self.sim.host, self.sim.port, self.name),
            "auth": bool(self.auth), "sessions": self.session_count() if self.running else 0,
        }


class Auth(GstRtspServer.RTSPAuth):
    """
    Anonymous clients get the default token (so open streams need no credentials), except on
    a protected stream: there a request without an Authorization header stays unauthenticated,
    which makes the server answer 401 with a WWW-Authenticate challenge, as a real camera
    does. (With only the stock role permissions, gst-rtsp-server 1.22 answers 404 instead, and
    clients such as ffmpeg never retry with their credentials.)
    """

    def __init__(self, protected):
        super().__init__()
        self.protected = protected

    def do_authenticate(self, ctx):
        path = ctx.uri.abspath if ctx.uri else ""
        name = path.strip("/").split("/")[0] if path else ""
        if name in self.protected:
            res, _value = ctx.request.get_header(GstRtsp.RTSPHeaderField.AUTHORIZATION, 0)
            if res != GstRtsp.RTSPResult.OK:
                return False
        ok = GstRtspServer.RTSPAuth.do_authenticate(self, ctx)
        if ok and name in self.protected:
            # Wrong credentials fall back to the anonymous default token: answer 401, not 404.
            token = ctx.token
            return bool(token) and token.get_string("media.factory.role") == "user"
        return ok


class Sim:
    def __init__(self, host, port, ffmpeg):
        self.host = host
        self.port = port
        self.ffmpeg = ffmpeg
        self.streams = {}
        self.loop = GLib.MainLoop()
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(host)
        self.server.set_service(str(port))
        self.protected = set()
        self.auth = Auth(self.protected)
        self.auth.set_default_token(self.token("anonymous"))
        self.server.set_auth(self.auth)

    @staticmethod
    def token(role):
        t = GstRtspServer.RTSPToken()
        t.set_string("media.factory.role", role)
        return t

    def add(self, stream):
        if stream.auth:
            # USER:PASS, each percent-encoded so that ':' '@' '%' ',' can be part of them.
            user, _, password = stream.auth.partition(":")
            user, password = unquote(user), unquote(password)
            self.auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), self.token("user"))
            self.auth.add_digest(user, password, self.token("user"))
            self.protected.add(stream.name)
        self.streams[stream.name] = stream

    def command(self, line):
        """Runs one control command on the GLib main loop; returns the reply object."""
        parts = line.strip().split()
        if not parts:
            return None
        verb = parts[0]
        if verb == "list":
            return {"ok": True, "streams": [s.info() for s in self.streams.values()]}
        if verb in ("stop", "start") and len(parts) == 2:
            s = self.streams.get(parts[1])
            if not s:
                return {"ok": False, "error": "no stream named %s" % parts[1]}
            s.stop() if verb == "stop" else s.start()
            return {"ok": True, "stream": s.info()}
        return {"ok": False, "error": "unknown command: %s (use stop NAME, start NAME, list)" % line.strip()}

    def on_main(self, line):
        """Calls command() on the main loop thread (GStreamer objects are touched there only)."""
        done = threading.Event()
        box = {}

        def run():
            try:
                box["r"] = self.command(line)
            except Exception as e:  # a failed command must not take the simulator down
                box["r"] = {"ok": False, "error": str(e)}
            done.set()
            return False

        GLib.idle_add(run)
        done.wait(10)
        return box.get("r", {"ok": False, "error": "timed out"})

    def shutdown(self):
        for s in self.streams.values():
            s.kill_producer()
        self.loop.quit()


def parse_stream(spec):
    name, _, rest = spec.partition("=")
    parts = rest.split(",")
    opts = {"path": parts[0]}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        opts[k] = v
    if not name or not opts["path"]:
        raise SystemExit("bad --stream %r: expected NAME=FILE[,auth=USER:PASS][,size=WxH][,fps=N][,copy=1]" % spec)
    if not os.path.isfile(opts["path"]):
        raise SystemExit("stream %s: footage file %s does not exist" % (name, opts["path"]))
    return name, opts


def main():
    ap = argparse.ArgumentParser(description="Sentinel RTSP camera simulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--control-port", type=int, default=0, help="HTTP control port (0: none)")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--stream", action="append", default=[])
    args = ap.parse_args()
    die_with_parent()
    Gst.init(None)
    sim = Sim(args.host, args.port, args.ffmpeg)
    for spec in args.stream:
        name, o = parse_stream(spec)
        sim.add(Stream(sim, name, o["path"], o.get("auth"), o.get("size"), o.get("fps"), o.get("copy") == "1"))
    if sim.server.attach(None) == 0:
        emit({"event": "error", "error": "cannot listen on %s:%d (port in use?)" % (args.host, args.port)})
        sys.exit(1)
    for s in sim.streams.values():
        s.start()

    control_port = 0
    if args.control_port:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, obj):
                body = json.dumps(obj).encode()
                self.send_response(200 if obj.get("ok") else 400)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.reply(sim.on_main("list") if self.path.rstrip("/") == "/streams" else {"ok": False, "error": "not found"})

            def do_POST(self):
                p = [unquote(x) for x in self.path.strip("/").split("/")]
                if len(p) == 3 and p[0] == "streams" and p[2] in ("stop", "start"):
                    self.reply(sim.on_main("%s %s" % (p[2], p[1])))
                else:
                    self.reply({"ok": False, "error": "not found"})

        try:
            httpd = ThreadingHTTPServer(("127.0.0.1", args.control_port), Handler)
        except OSError as e:
            emit({"event": "error", "error": "cannot listen on control port %d: %s" % (args.control_port, e)})
            sys.exit(1)
        control_port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def read_stdin():
        for line in sys.stdin:
            r = sim.on_main(line)
            if r is not None:
                emit({"event": "reply", **r})
        GLib.idle_add(sim.shutdown)  # EOF: the parent is gone or wants us to stop

    threading.Thread(target=read_stdin, daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, lambda *a: (sim.shutdown(), False)[1])
    emit({"event": "ready", "port": args.port, "controlPort": control_port, "streams": [s.info() for s in sim.streams.values()]})
    try:
        sim.loop.run()
    finally:
        for s in sim.streams.values():
            s.kill_producer()


if __name__ == "__main__":
    main()

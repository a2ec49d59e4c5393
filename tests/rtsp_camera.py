"""A camera for the tests: FFmpeg encodes a test pattern to RTP, a small RTSP server serves it.

Debian's FFmpeg cannot itself answer RTSP clients: its RTSP muxer only pushes
to a server (ANNOUNCE/RECORD), and ``-rtsp_flags listen`` belongs to the
demuxer (it waits for a camera to push to it). So FFmpeg (``-f rtp``) makes
the stream, a real MJPEG-over-RTP stream (RFC 2435) with its SDP, and this
module answers OPTIONS, DESCRIBE (with Basic authentication), SETUP (RTP
interleaved in the TCP connection, RFC 2326 §10.12), PLAY and TEARDOWN,
relaying FFmpeg's RTP packets to every playing client.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from sitcen.testing import free_port, wait_until


class RtspCamera:
    """``rtsp://127.0.0.1:<port>/live``, with a user name and password, while started."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/live"
        self.refused_logins = 0
        self._root = Path(tempfile.mkdtemp(prefix="sitcen-rtsp-"))
        self._players: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._rtp.bind(("127.0.0.1", 0))
        self._rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sdp = ""
        self._first_packet = threading.Event()

    def start(self) -> RtspCamera:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise RuntimeError("ffmpeg (Debian package ffmpeg) is not installed")
        rtp_port = self._rtp.getsockname()[1]
        self._rtcp.bind(("127.0.0.1", rtp_port + 1))
        sdp_file = self._root / "stream.sdp"
        self._log = (self._root / "ffmpeg.log").open("wb")
        self._process = subprocess.Popen(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
             "-i", "testsrc=size=320x240:rate=10", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p",
             "-q:v", "5", "-huffman", "default", "-f", "rtp", "-sdp_file", str(sdp_file),
             f"rtp://127.0.0.1:{rtp_port}?pkt_size=1200&rtcpport={rtp_port + 1}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._log)

        def described() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError("ffmpeg stopped: " + (self._root / "ffmpeg.log").read_text())
            text = sdp_file.read_text() if sdp_file.exists() else ""
            return "m=video" in text

        wait_until(described, what="ffmpeg's SDP")
        self._sdp = self._describe(sdp_file.read_text())
        threading.Thread(target=self._relay, daemon=True).start()
        threading.Thread(target=self._accept, daemon=True).start()
        wait_until(self._first_packet.is_set, what="ffmpeg's first RTP packet")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._log.close()
        for s in (self._server, self._rtp, self._rtcp):
            s.close()
        with self._lock:
            for player in self._players:
                player.close()
        shutil.rmtree(self._root, ignore_errors=True)

    @staticmethod
    def _describe(sdp: str) -> str:
        """FFmpeg's SDP as an RTSP server describes it: no address or port, one control."""
        lines = []
        for line in sdp.strip().splitlines():
            if line.startswith("c="):
                line = "c=IN IP4 0.0.0.0"
            lines.append(line)
            if line.startswith("m=video"):
                lines[-1] = "m=video 0 " + line.split(" ", 2)[2]
                lines.append("a=control:track0")
        return "\r\n".join(lines) + "\r\n"

    def _relay(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self._rtp.recv(65536)
            except OSError:
                return
            self._first_packet.set()
            frame = b"$\x00" + len(packet).to_bytes(2, "big") + packet
            with self._lock:
                for player in list(self._players):
                    try:
                        player.sendall(frame)
                    except OSError:
                        self._players.remove(player)
                        player.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return headers.get("authorization", "") == f"Basic {expected}"

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while not self._stop.is_set():
                while buffer[:1] == b"$" or b"\r\n\r\n" not in buffer:
                    if buffer[:1] == b"$" and len(buffer) >= 4:  # the client's RTCP: skipped
                        size = 4 + int.from_bytes(buffer[2:4], "big")
                        if len(buffer) >= size:
                            buffer = buffer[size:]
                            continue
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("utf-8", "replace").split("\r\n")
                method, url = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, v in
                           (line.split(":", 1) for line in lines[1:] if ":" in line)}
                cseq = headers.get("cseq", "0")
                reply = [f"CSeq: {cseq}"]
                body = ""
                status = "200 OK"
                if method != "OPTIONS" and not self._authorised(headers):
                    status = "401 Unauthorized"
                    reply.append('WWW-Authenticate: Basic realm="test camera"')
                    self.refused_logins += 1
                elif method == "OPTIONS":
                    reply.append("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
                elif method == "DESCRIBE":
                    body = self._sdp
                    reply += ["Content-Type: application/sdp", f"Content-Base: {url}/"]
                elif method == "SETUP":
                    reply += ["Transport: RTP/AVP/TCP;unicast;interleaved=0-1",
                              "Session: 5eed5eed;timeout=60"]
                elif method == "PLAY":
                    reply.append("Session: 5eed5eed")
                elif method == "TEARDOWN":
                    conn.sendall(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n".encode())
                    return
                else:
                    status = "405 Method Not Allowed"
                data = body.encode()
                reply.append(f"Content-Length: {len(data)}")
                conn.sendall(f"RTSP/1.0 {status}\r\n".encode() + "\r\n".join(reply).encode()
                             + b"\r\n\r\n" + data)
                if method == "PLAY" and status.startswith("200"):
                    with self._lock:
                        self._players.append(conn)
        except OSError:
            return
        finally:
            with self._lock:
                if conn in self._players:
                    self._players.remove(conn)
            conn.close()

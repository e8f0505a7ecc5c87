"""The FastAPI application behind ``scopecheck serve``: thin routes over the library.

Every ``/api`` route calls the same library function as the matching CLI command and returns its
``to_json()`` (``POST /api/compare`` = ``compare --json``, ``POST /api/shots`` = ``capture --json``,
``POST /api/dedupe`` = ``dedupe --json``, ``POST /api/search`` = ``search --json``). Errors are the
library's own one-line messages as ``{"error": ...}`` with a 4xx/5xx status. The API is described
at ``/openapi.json`` (and browsable at ``/docs``, which needs no network: FastAPI's page would load
its script from a CDN, so it is switched off and ``/openapi.json`` is the reference).

Guards (:func:`_guard`): when bound to a loopback address, only requests whose ``Host`` is a
loopback name are answered (a web page elsewhere cannot reach the server through DNS rebinding);
with a token every request must carry it (``Authorization: Bearer T``, or ``?token=T`` once,
which sets a same-site cookie); a state-changing request whose ``Origin`` is another site is
refused; every file name goes through :class:`ShotDir` (nothing outside ``--dir``).
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import threading
from collections import OrderedDict
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from scopecheck.compare.errors import (
    DeviceError,
    InputError,
    OutputExistsError,
    ScopecheckError,
)

from .paths import OutsideError, ShotDir
from .pictures import display_bytes, heat_png, thumbnail

COOKIE = "scopecheck_token"
PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- request bodies

#: Bytes a request body may hold: every body of this API is a JSON object of a few short fields.
MAX_BODY = 64 * 1024


class CompareBody(BaseModel):
    a: str = Field(description="shot name relative to --dir, or a path under --dir")
    b: str = Field(description="shot name relative to --dir, or a path under --dir")


class ShootBody(BaseModel):
    frames: int = Field(16, ge=1, le=1000, description="frames averaged per shot")
    warmup: str = Field("auto", max_length=16, description="frames discarded first (at most 1000), or auto")
    stack: str = Field("mean", description="mean or median")
    depth: int = Field(8, description="8 or 16 bits per sample")


class ControlBody(BaseModel):
    control: str = Field(description="exposure, white_balance, gain or focus")
    mode: str = Field(description="auto, lock, leave, or a number in the control's unit")


class DedupeBody(BaseModel):
    max_distance: int | None = Field(None, ge=0, le=64, description="dHash bits (default as in the CLI)")


class SearchBody(BaseModel):
    needle: str = Field(description="an image under --dir to look for")
    max_distance: int | None = Field(None, ge=0, le=64)


# --------------------------------------------------------------------------- the app

def _status_for(e: ScopecheckError) -> int:
    if isinstance(e, OutsideError):
        return 403
    if isinstance(e, OutputExistsError):
        return 409
    if isinstance(e, DeviceError):
        return 503
    return 400


def create_app(directory: str, *, device: str | None = None, token: str | None = None,
               host: str = "127.0.0.1", opener=None, fps: float = 8.0, log=None) -> FastAPI:
    """The workstation for shots in ``directory`` (and live view of ``device`` when given)."""
    from .device import DeviceOwner

    shots = ShotDir(directory)
    if not is_loopback(host) and not token:
        raise InputError(f"--host {host}: serving beyond this machine needs --token (anyone on the network "
                         "could otherwise use the camera and read the shots)")
    owner = DeviceOwner(device, opener=opener, fps=fps, log=log) if device else None
    heat_cache: OrderedDict[tuple, bytes | None] = OrderedDict()
    thumbs: OrderedDict[tuple, bytes] = OrderedDict()
    cache_lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app):
        if owner is not None:
            owner.start()
        try:
            yield
        finally:
            if owner is not None:
                owner.close()

    app = FastAPI(title="scopecheck workstation", version=_version(), lifespan=lifespan, docs_url=None,
                  redoc_url=None, description=__doc__.split("\n\n")[1])
    app.state.owner = owner
    app.state.stopping = threading.Event()  # set on Ctrl-C so that open streams end at once
    app.state.shots = shots
    static = resources.files("scopecheck.serve").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(ScopecheckError)
    async def _scopecheck_error(request: Request, e: ScopecheckError):
        return JSONResponse({"error": str(e)}, status_code=_status_for(e))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        """What is wrong with a request, in a line, without echoing its input (which may be 100 MB,
        or hold an Infinity that JSON cannot carry back)."""
        parts = []
        for err in e.errors()[:3]:
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
        return JSONResponse({"error": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(UnicodeDecodeError)
    async def _not_utf8(request: Request, e: UnicodeDecodeError):
        return JSONResponse({"error": "the request body is not UTF-8 JSON"}, status_code=400)

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        host_header = request.headers.get("host", "")
        name = urlsplit(f"//{host_header}").hostname or ""
        if is_loopback(host) and not is_loopback(name):
            return JSONResponse({"error": f"Host {host_header!r} refused: this server answers loopback names "
                                 "only (start it with --host and --token to serve others)"}, status_code=403)
        query_token = request.query_params.get("token")
        if token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
                or query_token or request.cookies.get(COOKIE, "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"error": "token required: open the address printed by scopecheck serve "
                                     "(…/?token=T) or send Authorization: Bearer T"}, status_code=401)
        if request.method in ("POST", "PUT", "PATCH"):  # every body here is a small JSON object
            length = request.headers.get("content-length")
            if length is None and request.headers.get("transfer-encoding"):
                return JSONResponse({"error": "a request body needs a Content-Length"}, status_code=411)
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin and urlsplit(origin).netloc != host_header:
            return JSONResponse({"error": f"cross-site request from {origin} refused"}, status_code=403)
        if token and query_token and request.url.path == "/":
            response: Response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        else:
            response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    # ------------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(str(static.joinpath("index.html")), media_type="text/html")

    # ------------------------------------------------------------------ device
    def need_owner():
        if owner is None:
            raise InputError("no device: start the server with --device (a camera, a recording or sim)")
        return owner

    @app.get("/api/device", summary="device, live state and the controls table")
    def get_device():
        if owner is None:
            return {"device": None, "state": "none", "message": "no --device given: gallery and compare only",
                    "camera": None, "frames": 0, "reopened": 0, "controls": []}
        return owner.status().to_json()

    @app.post("/api/device/controls", summary="set one control (auto, lock, leave or a value); the outcome")
    def set_control(body: ControlBody):
        return need_owner().set_control(body.control, body.mode)

    @app.get("/api/live", summary="the numbers of the newest live frame: focus, histogram, clipping")
    def live():
        o = need_owner()
        lf = o.latest()
        return {"status": o.status().to_json(), "frame": None if lf is None else lf.to_json()}

    @app.get("/api/live.jpg", summary="the newest live frame as JPEG (poll with ?after=<seq>; 204 when "
             "none came within timeout seconds)",
             response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
    def live_jpeg(after: int = 0, timeout: float = 5.0):
        o = need_owner()
        lf = o.wait_frame(after, timeout=min(max(timeout, 0.0), 10.0))
        if lf is None:  # nothing new (shooting, lost, reopening): not an error, see /api/device for why
            return Response(status_code=204, headers={"X-Device-State": o.status().state})
        return Response(lf.jpeg, media_type="image/jpeg", headers={"X-Frame-Seq": str(lf.seq),
                                                                    "Cache-Control": "no-store"})

    @app.get("/api/live.mjpg", summary="the live view as an MJPEG stream (multipart/x-mixed-replace)",
             response_class=StreamingResponse)
    def live_mjpeg(frames: int = 0):
        o = need_owner()
        limit = max(0, frames)

        def parts():
            seq, sent = 0, 0
            while not (o.closed or app.state.stopping.is_set()) and (not limit or sent < limit):
                lf = o.wait_frame(seq, timeout=0.5)
                if lf is None:
                    continue
                seq, sent = lf.seq, sent + 1
                yield (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(lf.jpeg)).encode()
                       + b"\r\n\r\n" + lf.jpeg + b"\r\n")
        return StreamingResponse(parts(), media_type="multipart/x-mixed-replace; boundary=frame",
                                 headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ shots
    @app.get("/api/shots", summary="the images under --dir, newest first, with their manifests")
    def list_shots():
        return {"dir": shots.root, "shots": [s.to_json() for s in shots.list()]}

    @app.post("/api/shots", summary="take a shot (as scopecheck capture --json)")
    def shoot(body: ShootBody):
        from scopecheck.capture.session import CaptureOptions
        from scopecheck.capture.stack import parse_warmup

        warmup = parse_warmup(body.warmup)
        if warmup != "auto" and warmup > 1000:  # as many as a shot may average here: the camera is shared
            raise InputError(f"warmup {warmup}: at most 1000 frames from the workstation")
        o = need_owner()
        options = CaptureOptions(frames=body.frames, warmup=warmup, method=body.stack, depth=body.depth)
        return o.shoot(shots.template(), options).to_json()

    @app.get("/api/manifest", summary="the manifest written beside a shot")
    def manifest(name: str):
        return shots.read_manifest(name)

    @app.get("/api/image", summary="an image under --dir as the browser can show it",
             response_class=Response, responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
    def image(name: str, page: int = 1):
        data, media = display_bytes(shots.image(name), page=page)
        return Response(data, media_type=media, headers={"Cache-Control": "no-cache"})

    @app.get("/api/thumb", summary="a JPEG thumbnail of an image under --dir", response_class=Response,
             responses={200: {"content": {"image/jpeg": {}}}})
    def thumb(name: str, box: int = 160):
        if not 16 <= box <= 1024:
            raise InputError(f"box {box}: use 16..1024 pixels")
        path = shots.image(name)
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size, box)
        with cache_lock:
            data = thumbs.get(key)
        if data is None:
            data = thumbnail(path, box=box)
            with cache_lock:
                thumbs[key] = data
                while len(thumbs) > 512:
                    thumbs.popitem(last=False)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})

    # ------------------------------------------------------------------ compare, dedupe, search
    def _key(a: str, b: str) -> tuple:
        return tuple((p, os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in (a, b))

    def _compare(a: str, b: str):
        from scopecheck.compare.pair import compare_files

        c = compare_files(a, b, want_map=True)
        with cache_lock:
            heat_cache[_key(a, b)] = None if c.ssim_map is None else heat_png(c.ssim_map)
            while len(heat_cache) > 8:
                heat_cache.popitem(last=False)
        return c

    @app.post("/api/compare", summary="compare two images under --dir (as scopecheck compare --json)")
    def compare(body: CompareBody):
        return _compare(shots.image(body.a), shots.image(body.b)).to_json()

    @app.get("/api/report", summary="the self-contained HTML report of a pair (as compare --report)",
             response_class=Response, responses={200: {"content": {"text/html": {}}}})
    def report(a: str, b: str):
        from .report import CSP, build_report

        pa, pb = shots.image(a), shots.image(b)
        html = build_report(_compare(pa, pb))
        name = f"{os.path.splitext(os.path.basename(pa))[0]}_vs_{os.path.splitext(os.path.basename(pb))[0]}.html"
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{safe}"',
                                 "Content-Security-Policy": CSP})

    @app.get("/api/heat", summary="the 1 - SSIM heat map of a pair, as PNG", response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def heat(a: str, b: str):
        pa, pb = shots.image(a), shots.image(b)
        with cache_lock:
            data = heat_cache.get(_key(pa, pb), False)
        if data is False:
            _compare(pa, pb)
            with cache_lock:
                data = heat_cache.get(_key(pa, pb))
        if data is None:
            return Response(status_code=204)
        return Response(data, media_type="image/png")

    @app.post("/api/dedupe", summary="duplicate groups under --dir (as scopecheck dedupe --json)")
    def dedupe(body: DedupeBody):
        from scopecheck.compare.dedupe import find_duplicates
        from scopecheck.compare.haystack import DEFAULT_MAX_DISTANCE
        from scopecheck.compare.indexed import haystack_from

        hay = haystack_from(shots.root, jobs=1)
        d = DEFAULT_MAX_DISTANCE if body.max_distance is None else body.max_distance
        return find_duplicates(hay, max_distance=d).to_json()

    @app.post("/api/search", summary="where an image occurs under --dir (as scopecheck search --json)")
    def search(body: SearchBody):
        from scopecheck.compare.batch import hash_tree
        from scopecheck.compare.haystack import DEFAULT_MAX_DISTANCE, Entry
        from scopecheck.compare.indexed import haystack_from
        from scopecheck.compare.search import match_needles

        needle = shots.image(body.needle)
        hay = haystack_from(shots.root, jobs=1)
        records, errors = hash_tree([needle], jobs=1)
        d = DEFAULT_MAX_DISTANCE if body.max_distance is None else body.max_distance
        res = match_needles([Entry.of(r) for r in records], hay, max_distance=d, needle_errors=errors)
        return res.to_json()

    return app


def _version() -> str:
    from scopecheck import __version__

    return __version__

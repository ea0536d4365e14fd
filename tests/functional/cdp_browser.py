"""A headless Chromium driven over the DevTools protocol on 127.0.0.1, with the standard library only.

    with Browser() as browser:
        page = browser.open('file:///tmp/report.html')
        page.evaluate('document.title')
        page.screenshot('/tmp/shot.png')
        page.errors          # console errors, uncaught exceptions and failed loads seen so far

Chromium (Debian's ``chromium`` package) listens on a port it picks itself on 127.0.0.1
(``--remote-debugging-port=0``; the port is read from ``DevToolsActivePort`` in its profile
directory). The WebSocket client here is the small part of RFC 6455 the protocol needs.
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

CANDIDATES = ('chromium', 'chromium-browser', 'google-chrome')


def find_chromium():
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    """A client WebSocket (text frames, masked as a client must)."""

    def __init__(self, url, timeout=30):
        assert url.startswith('ws://'), url
        hostport, _slash, path = url[len('ws://'):].partition('/')
        host, _colon, port = hostport.partition(':')
        self.sock = socket.create_connection((host, int(port or 80)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = ('GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                   'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n' % (path, hostport, key))
        self.sock.sendall(request.encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise IOError('the DevTools socket closed during the handshake')
            head += chunk
        if b' 101 ' not in head.split(b'\r\n', 1)[0]:
            raise IOError('WebSocket handshake refused: %r' % head[:200])

    def send(self, text):
        data = text.encode()
        header = bytearray([0x81])
        if len(data) < 126:
            header.append(0x80 | len(data))
        elif len(data) < 65536:
            header.append(0x80 | 126)
            header += struct.pack('!H', len(data))
        else:
            header.append(0x80 | 127)
            header += struct.pack('!Q', len(data))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes(header) + mask + masked)

    def _exact(self, count):
        buf = bytearray()
        while len(buf) < count:
            chunk = self.sock.recv(min(1 << 20, count - len(buf)))
            if not chunk:
                raise IOError('the DevTools socket closed')
            buf += chunk
        return bytes(buf)

    def receive(self):
        """The next whole text message."""
        parts = []
        while True:
            first, second = self._exact(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack('!H', self._exact(2))[0]
            elif length == 127:
                length = struct.unpack('!Q', self._exact(8))[0]
            mask = self._exact(4) if second & 0x80 else None
            payload = self._exact(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise IOError('the DevTools socket was closed by the browser')
            if opcode == 0x9:  # ping
                continue
            parts.append(payload)
            if first & 0x80:
                return b''.join(parts).decode('utf-8', 'replace')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Page:
    """One tab: commands, and the console errors / exceptions it reported."""

    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events = []
        self.errors = []
        for method in ('Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable'):
            self.call(method)

    def _note(self, message):
        method, params = message.get('method'), message.get('params', {})
        self.events.append(message)
        if method == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'assert'):
            self.errors.append('console.%s: %s' % (params['type'], ' '.join(
                str(a.get('value', a.get('description', ''))) for a in params.get('args', []))))
        elif method == 'Runtime.exceptionThrown':
            details = params.get('exceptionDetails', {})
            self.errors.append('exception: %s %s' % (details.get('text'), (details.get('exception') or {}).get('description', '')))
        elif method == 'Log.entryAdded' and params.get('entry', {}).get('level') == 'error':
            self.errors.append('log: %s %s' % (params['entry'].get('text'), params['entry'].get('url', '')))
        elif method == 'Network.loadingFailed':
            self.errors.append('load failed: %s' % params.get('errorText'))

    def call(self, method, timeout=30, **params):
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({'id': wanted, 'method': method, 'params': params}))
        end = time.time() + timeout
        while time.time() < end:
            message = json.loads(self.ws.receive())
            if message.get('id') == wanted:
                if 'error' in message:
                    raise RuntimeError('%s: %s' % (method, message['error']))
                return message.get('result', {})
            self._note(message)
        raise TimeoutError(method)

    def wait_event(self, method, timeout=30):
        for message in self.events:
            if message.get('method') == method:
                return message
        end = time.time() + timeout
        while time.time() < end:
            message = json.loads(self.ws.receive())
            self._note(message)
            if message.get('method') == method:
                return message
        raise TimeoutError(method)

    def navigate(self, url, width=1400, height=900):
        self.call('Emulation.setDeviceMetricsOverride', width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.events = []
        self.call('Page.navigate', url=url)
        self.wait_event('Page.loadEventFired')

    def evaluate(self, expression):
        result = self.call('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in result:
            raise RuntimeError('evaluate %r: %s' % (expression, result['exceptionDetails']))
        return result['result'].get('value')

    def wait_for(self, expression, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.evaluate(expression):
                return True
            time.sleep(0.05)
        raise TimeoutError(expression)

    def screenshot(self, path, full_page=False):
        params = {'format': 'png'}
        if full_page:
            params['captureBeyondViewport'] = True
        data = self.call('Page.captureScreenshot', **params)['data']
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(data))
        return path

    def close(self):
        self.ws.close()


class Browser:
    """A headless Chromium on 127.0.0.1 with a throw-away profile; ``stop()`` ends it (by its PID)."""

    def __init__(self, binary=None, timeout=30):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise RuntimeError('no chromium: apt-get install chromium (scripts/setup.sh does)')
        self.profile = tempfile.mkdtemp(prefix='virtops-cdp-')
        self.proc = subprocess.Popen(
            [self.binary, '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--remote-debugging-address=127.0.0.1',
             '--remote-debugging-port=0', '--user-data-dir=%s' % self.profile, 'about:blank'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = os.path.join(self.profile, 'DevToolsActivePort')
        end = time.time() + timeout
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if self.proc.poll() is not None or time.time() > end:
                self.stop()
                raise RuntimeError('chromium did not open its DevTools port')
            time.sleep(0.05)
        self.port = int(open(port_file).read().split()[0])
        self.pages = []

    def _targets(self):
        with urllib.request.urlopen('http://127.0.0.1:%d/json/list' % self.port, timeout=10) as reply:
            return json.loads(reply.read().decode())

    def open(self, url, width=1400, height=900):
        target = next(t for t in self._targets() if t.get('type') == 'page')
        page = Page(target['webSocketDebuggerUrl'])
        self.pages.append(page)
        page.navigate(url, width, height)
        return page

    def stop(self):
        for page in getattr(self, 'pages', []):
            page.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

'use strict';
// Tests of fetch.js: proxy selection, and downloads from a loopback server
// (redirects, failures, retries). Downloads through a CONNECT proxy are in
// e2e.test.js, which can give the launcher a test CA at start-up.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const path = require('path');
const crypto = require('crypto');
const { download, proxyFor } = require('./fetch');
const { tempDir } = require('./testdata/helpers');

test('proxyFor follows HTTPS_PROXY, HTTP_PROXY and NO_PROXY', () => {
  const env = {
    HTTPS_PROXY: 'http://user:secret@proxy.corp:3128',
    http_proxy: 'proxy.corp:8080',
    NO_PROXY: 'internal.corp, .ghes.corp,10.0.0.0/8,example.com:8443,[::1]',
  };
  const cases = [
    ['https://github.com/o/r', 'proxy.corp:3128'],
    ['http://127.0.0.1:9/x', 'proxy.corp:8080'],
    ['https://internal.corp/x', null],
    ['https://a.internal.corp/x', null],
    ['https://notinternal.corp/x', 'proxy.corp:3128'],
    ['https://ghes.corp/x', null],
    ['https://api.ghes.corp/x', null],
    ['https://10.1.2.3/x', null],
    ['https://11.1.2.3/x', 'proxy.corp:3128'],
    ['https://example.com:8443/x', null],
    ['https://example.com/x', 'proxy.corp:3128'],
    ['https://[::1]:8080/x', null],
  ];
  for (const [url, want] of cases) {
    const got = proxyFor(url, env);
    assert.equal(got && got.host, want, url);
  }
  assert.equal(proxyFor('https://github.com', {}), null);
  assert.equal(proxyFor('https://github.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }), null);
  assert.throws(() => proxyFor('https://github.com', { HTTPS_PROXY: 'https://user:secret@p:1' }),
    (err) => /only http:\/\/ proxies/.test(err.message) && !err.message.includes('secret'));
});

// serve starts a loopback server with the given routes; each route is
// (req, res) => void. Unknown paths answer 404. It records every request path.
async function serve(t, routes) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    const route = routes[new URL(req.url, 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404).end('not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${server.address().port}`, seen };
}

test('download follows redirects, streams to a file and returns its SHA-256', async (t) => {
  const body = crypto.randomBytes(300000);
  const { base, seen } = await serve(t, {
    '/o/r/releases/download/v1.0.0/asset': (req, res) => res.writeHead(302, { Location: '/storage/asset?sig=hush' }).end(),
    '/storage/asset': (req, res) => {
      assert.equal(req.headers['user-agent'], 'app-token-action-launcher');
      res.end(body);
    },
  });
  const dest = path.join(tempDir(t), 'asset');
  const sum = await download(`${base}/o/r/releases/download/v1.0.0/asset`, dest, { env: {} });
  assert.equal(sum, crypto.createHash('sha256').update(body).digest('hex'));
  assert.deepEqual(fs.readFileSync(dest), body);
  assert.deepEqual(seen, ['/o/r/releases/download/v1.0.0/asset', '/storage/asset?sig=hush']);
});

test('download retries server errors, not 404, and never shows a signed query', async (t) => {
  let calls = 0;
  const { base } = await serve(t, {
    '/flaky': (req, res) => (++calls < 3 ? res.writeHead(503).end() : res.end('ok')),
    '/gone': (req, res) => res.writeHead(302, { Location: '/missing?X-Amz-Signature=hush' }).end(),
  });
  const dir = tempDir(t);
  assert.equal(await download(`${base}/flaky`, path.join(dir, 'a'), { env: {}, delays: [1, 1] }),
    crypto.createHash('sha256').update('ok').digest('hex'));
  assert.equal(calls, 3);
  await assert.rejects(download(`${base}/gone`, path.join(dir, 'b'), { env: {}, delays: [1, 1] }),
    (err) => err.message === `GET ${base}/missing: HTTP 404`);
  calls = -10;
  await assert.rejects(download(`${base}/flaky`, path.join(dir, 'c'), { env: {}, delays: [1, 1] }),
    { message: `GET ${base}/flaky: HTTP 503` });
  assert.equal(calls, -7);
});

test('download refuses oversized bodies and too many redirects', async (t) => {
  const { base } = await serve(t, {
    '/big': (req, res) => res.end(Buffer.alloc(2048)),
    '/loop': (req, res) => res.writeHead(301, { Location: '/loop' }).end(),
  });
  const dir = tempDir(t);
  await assert.rejects(download(`${base}/big`, path.join(dir, 'a'), { env: {}, maxBytes: 1024 }), /larger than 1024 bytes/);
  await assert.rejects(download(`${base}/loop`, path.join(dir, 'b'), { env: {} }), /too many redirects/);
});

test('download sends http URLs to HTTP_PROXY in absolute form, with its credentials', async (t) => {
  const got = [];
  const proxy = http.createServer((req, res) => {
    got.push([req.method, req.url, req.headers['proxy-authorization']]);
    res.end('via proxy');
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => proxy.close());
  const env = { HTTP_PROXY: `http://u%40corp:p%3Ass@127.0.0.1:${proxy.address().port}` };
  const dest = path.join(tempDir(t), 'a');
  await download('http://release.test:8080/o/r/asset', dest, { env });
  assert.equal(fs.readFileSync(dest, 'utf8'), 'via proxy');
  assert.deepEqual(got, [['GET', 'http://release.test:8080/o/r/asset', `Basic ${Buffer.from('u@corp:p:ss').toString('base64')}`]]);
});

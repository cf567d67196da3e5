'use strict';
// Downloads for the launcher, loaded only when a release binary is fetched.
// Node 20's http and https clients ignore HTTPS_PROXY, so this file reads
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY itself: https URLs go through an HTTP
// CONNECT tunnel (RFC 9110 section 9.3.6), http URLs are sent to the proxy in
// absolute form (RFC 9112 section 3.2.2).

const fs = require('fs');
const net = require('net');
const http = require('http');
const https = require('https');
const tls = require('tls');
const crypto = require('crypto');

const IDLE_TIMEOUT_MS = 30000;
const MAX_REDIRECTS = 5;
const RETRY_DELAYS_MS = [1000, 3000];
// Network failures worth another attempt; TLS and proxy refusals are not.
const TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'TIMEOUT']);

// proxyFor returns the proxy URL to use for url, or null for a direct connection.
function proxyFor(url, env) {
  const u = new URL(url);
  const raw = u.protocol === 'https:'
    ? env.HTTPS_PROXY || env.https_proxy
    : env.HTTP_PROXY || env.http_proxy;
  if (!raw || bypassProxy(u, env.NO_PROXY || env.no_proxy || '')) return null;
  let p;
  try {
    p = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new Error('the proxy in HTTPS_PROXY/HTTP_PROXY is not a URL: use http://HOST:PORT');
  }
  if (p.protocol !== 'http:') {
    throw new Error(`proxy ${p.host} uses ${p.protocol.slice(0, -1)}: only http:// proxies are supported`);
  }
  return p;
}

// bypassProxy reports whether NO_PROXY exempts u: "*", a host name (which also
// covers its subdomains, with or without a leading dot), an IP address or a
// CIDR block, each optionally with ":port".
function bypassProxy(u, noProxy) {
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  for (let entry of noProxy.split(/[\s,]+/)) {
    entry = entry.toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(entry);
    if (entry.includes('/') || net.isIPv6(entry)) m = [entry, entry, undefined];
    const [, name, entryPort] = m;
    if (entryPort && entryPort !== port) continue;
    if (name.includes('/')) {
      const [addr, bits] = name.split('/');
      const family = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (net.isIP(host)) {
        const list = new net.BlockList();
        try {
          list.addSubnet(addr, Number(bits), family);
          if (list.check(host, net.isIPv6(host) ? 'ipv6' : 'ipv4')) return true;
        } catch { /* not a valid block: ignore the entry */ }
      }
      continue;
    }
    const bare = name.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function proxyAuth(p) {
  if (!p.username) return {};
  const creds = `${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

// tunnel opens a CONNECT tunnel through proxy p to host:port.
function tunnel(p, host, port) {
  return new Promise((resolve, reject) => {
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const req = http.request({
      host: p.hostname,
      port: p.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...proxyAuth(p) },
      timeout: IDLE_TIMEOUT_MS,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      const code = res.statusCode >= 500 ? 'ECONNRESET' : undefined; // a 5xx is the proxy's upstream failing
      reject(Object.assign(new Error(`proxy ${p.host} answered ${res.statusCode} to CONNECT ${target}`), { code }));
    });
    req.on('timeout', () => req.destroy(timedOut()));
    req.on('error', (err) => reject(Object.assign(new Error(`proxy ${p.host}: ${err.message}`), { code: err.code })));
    req.end();
  });
}

function timedOut() {
  return Object.assign(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000}s`), { code: 'TIMEOUT' });
}

// get sends one GET for url and resolves with the response (not yet read).
async function get(url, env) {
  const u = new URL(url);
  const p = proxyFor(url, env);
  const headers = { 'User-Agent': 'app-token-action-launcher', Accept: 'application/octet-stream' };
  let req;
  if (!p) {
    req = (u.protocol === 'https:' ? https : http).request(u, { headers, timeout: IDLE_TIMEOUT_MS });
  } else if (u.protocol === 'https:') {
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const socket = await tunnel(p, host, u.port || 443);
    req = https.request(u, {
      headers,
      timeout: IDLE_TIMEOUT_MS,
      createConnection: () => tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host }),
    });
  } else {
    req = http.request({
      host: p.hostname,
      port: p.port || 80,
      path: u.href,
      headers: { ...headers, Host: u.host, ...proxyAuth(p) },
      timeout: IDLE_TIMEOUT_MS,
    });
  }
  return new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(timedOut()));
    req.on('error', reject);
    req.end();
  });
}

// shown drops a URL's query and credentials (a redirect to storage may carry a
// signed query) so that errors can name it.
function shown(url) {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

// fetchOnce follows redirects and streams the body into dest, returning its
// SHA-256 in hex. err.retry is set for failures worth another attempt.
async function fetchOnce(url, dest, env, maxBytes) {
  for (let hops = 0; ; hops++) {
    let res;
    try {
      res = await get(url, env);
    } catch (err) {
      throw Object.assign(new Error(`GET ${shown(url)}: ${err.message}`), { retry: TRANSIENT.has(err.code) });
    }
    const status = res.statusCode;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      const next = new URL(res.headers.location, url);
      if (hops >= MAX_REDIRECTS) throw new Error(`GET ${shown(url)}: too many redirects`);
      if (new URL(url).protocol === 'https:' && next.protocol !== 'https:') {
        throw new Error(`GET ${shown(url)}: refusing a redirect from https to ${next.protocol}`);
      }
      url = next.href;
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw Object.assign(new Error(`GET ${shown(url)}: HTTP ${status}`), { retry: status >= 500 || status === 429 });
    }
    return new Promise((resolve, reject) => {
      const hash = crypto.createHash('sha256');
      const out = fs.createWriteStream(dest, { mode: 0o700 });
      let size = 0;
      let failed = false;
      const fail = (err) => {
        if (failed) return; // destroying res below may report its own error
        failed = true;
        res.destroy();
        out.destroy();
        reject(err);
      };
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > maxBytes) return fail(new Error(`GET ${shown(url)}: larger than ${maxBytes} bytes`));
        hash.update(chunk);
      });
      res.on('aborted', () => fail(Object.assign(new Error(`GET ${shown(url)}: connection lost`), { retry: true })));
      res.on('error', (err) => fail(Object.assign(new Error(`GET ${shown(url)}: ${err.message}`), { retry: true })));
      out.on('error', fail);
      // 'close', not 'finish': the file must be closed before anyone runs it
      // (Linux refuses to exec a file open for writing: ETXTBSY).
      out.on('close', () => {
        if (!failed) resolve(hash.digest('hex'));
      });
      res.pipe(out);
    });
  }
}

// download fetches url into dest and returns the SHA-256 of what it wrote.
// Errors name the URL and, for a proxy, only its host: never its credentials.
async function download(url, dest, { env = process.env, maxBytes = Infinity, delays = RETRY_DELAYS_MS } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(url, dest, env, maxBytes);
    } catch (err) {
      if (!err.retry || attempt >= delays.length) throw err;
      await new Promise((r) => setTimeout(r, delays[attempt]));
    }
  }
}

module.exports = { download, proxyFor, bypassProxy };

#!/usr/bin/env bash
# The reverse-proxy deployment of docs/deployment.md, run for real on 127.0.0.1:
#   - nginx (Debian's) with deploy/nginx/leptos-scalekit.conf, its host, ports and certificate
#     paths replaced, and a self-signed certificate for 127.0.0.1;
#   - the app in APP_ENV=production behind it (https APP_URL, SECRET_KEY, the provider's
#     certificate trusted through SCALEKIT_CA_FILE);
#   - the standalone development provider as its Scalekit environment, behind TLS on nginx too;
#   - checks with curl (the http redirect, /ready, HSTS), then a Playwright sign-in through the
#     proxy (end2end/tests/deployment.proxy.spec.ts).
# Needs target/debug/leptos-scalekit and target/site (scripts/build.sh) and the bootstrap's tools.
# Everything listens on free loopback ports and is stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="$root/target/debug/leptos-scalekit"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$bin" ] || { echo "error: $bin is missing: run scripts/build.sh" >&2; exit 1; }
[ -x "$nginx_bin" ] || { echo "error: nginx is missing: run scripts/bootstrap.sh" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
show_logs() {
  for log in app.log idp.log nginx-error.log; do
    echo "--- $log (last 30 lines) ---" >&2
    tail -n 30 "$work/$log" >&2 2>/dev/null || true
  done
}

read -r app_port app_tls http_port idp_port idp_tls < <(python3 - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(5)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in sockets])
EOF
)
app_url="https://127.0.0.1:$app_tls"
idp_url="https://127.0.0.1:$idp_tls"

# A private certificate authority and a server certificate it signed for 127.0.0.1, as a company
# CA would issue them (webpki refuses a self-signed CA certificate used as the server's own).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=leptos-scalekit test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/tls.ext"
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/tls.ext" -out "$work/tls.crt" 2>/dev/null

# The documented site, made local: same directives, our host, ports and certificate.
sed -e "s|server_name app.example.com;|server_name 127.0.0.1;|" \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "s|listen 443 ssl;|listen 127.0.0.1:$app_tls ssl;|" \
    -e "s|return 301 https://\$host\$request_uri;|return 301 https://\$host:$app_tls\$request_uri;|" \
    -e "s|proxy_pass http://127.0.0.1:3000;|proxy_pass http://127.0.0.1:$app_port;|" \
    -e "s|/etc/ssl/leptos-scalekit/fullchain.pem|$work/tls.crt|" \
    -e "s|/etc/ssl/leptos-scalekit/privkey.pem|$work/tls.key|" \
    -e "s|/var/log/nginx/leptos-scalekit.access.log|$work/access.log|" \
    deploy/nginx/leptos-scalekit.conf > "$work/site.conf"
for expected in "127.0.0.1:$app_tls ssl" "127.0.0.1:$app_port" "$work/tls.crt"; do
  grep -q -- "$expected" "$work/site.conf" || { echo "error: deploy/nginx/leptos-scalekit.conf changed shape ($expected)" >&2; exit 1; }
done
mkdir -p "$work/tmp"
cat > "$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  proxy_max_temp_file_size 0;
  access_log off;
  include $work/site.conf;
  # The development provider standing in for the Scalekit environment, behind TLS too.
  server {
    listen 127.0.0.1:$idp_tls ssl;
    server_name 127.0.0.1;
    ssl_certificate $work/tls.crt;
    ssl_certificate_key $work/tls.key;
    location / {
      proxy_pass http://127.0.0.1:$idp_port;
      proxy_set_header Host \$http_host;
    }
  }
}
EOF
"$nginx_bin" -t -q -c "$work/nginx.conf" -p "$work" 2>"$work/nginx-error.log" \
  || { cat "$work/nginx-error.log" >&2; exit 1; }
"$nginx_bin" -c "$work/nginx.conf" -p "$work" 2>>"$work/nginx-error.log" &
pids+=($!)

# The provider knows the app by its public https URLs.
cat > "$work/idp.json" <<EOF
{
  "clients": [{
    "client_id": "skc_dev_leptos_scalekit",
    "client_secret": "dev-only-secret-never-used-with-scalekit",
    "redirect_uris": ["$app_url/auth/callback"],
    "post_logout_redirect_uris": ["$app_url"],
    "management": true
  }],
  "resources": [{
    "id": "res_100000000000000001",
    "name": "leptos-scalekit MCP",
    "scopes": ["read:deployments", "deploy:applications"],
    "server_urls": ["$app_url/mcp"]
  }]
}
EOF
env -i PATH="$PATH" HOME="$work" RUST_LOG=warn \
  DEV_IDP_ADDR="127.0.0.1:$idp_port" DEV_IDP_ISSUER="$idp_url" \
  DEV_IDP_CONFIG="$work/idp.json" DEV_STATE_DIR="$work/idp-state" \
  "$bin" dev-idp >"$work/idp.log" 2>&1 &
pids+=($!)

secret_key=$(openssl rand -hex 32)
(
  cd "$work"
  env -i PATH="$PATH" HOME="$work" RUST_LOG=info LOG_FORMAT=json \
    APP_ENV=production APP_URL="$app_url" LEPTOS_SITE_ADDR="127.0.0.1:$app_port" \
    LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    SECRET_KEY="$secret_key" \
    SCALEKIT_ENVIRONMENT_URL="$idp_url" \
    SCALEKIT_CLIENT_ID=skc_dev_leptos_scalekit \
    SCALEKIT_CLIENT_SECRET=dev-only-secret-never-used-with-scalekit \
    SCALEKIT_RESOURCE_ID=res_100000000000000001 \
    SCALEKIT_CA_FILE="$work/ca.crt" \
    "$bin" serve
) >"$work/app.log" 2>&1 &
pids+=($!)

ready=""
for _ in $(seq 1 150); do
  if curl -fsS --cacert "$work/ca.crt" "$app_url/ready" >"$work/ready.json" 2>/dev/null; then
    ready=yes; break
  fi
  sleep 0.2
done
[ -n "$ready" ] || { echo "error: $app_url/ready never answered 200" >&2; cat "$work/ready.json" >&2 2>/dev/null; show_logs; exit 1; }
echo "ok  /ready through the proxy: $(cat "$work/ready.json")"

headers=$(curl -sS --cacert "$work/ca.crt" -o /dev/null -D - "$app_url/")
grep -qi '^strict-transport-security: max-age=' <<<"$headers" \
  || { echo "error: no HSTS header through the proxy" >&2; echo "$headers" >&2; exit 1; }
echo "ok  HSTS on the app's pages through the proxy"
redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/dashboard")
[ "$redirect" = "301 $app_url/dashboard" ] \
  || { echo "error: plain http answered '$redirect', expected a 301 to $app_url/dashboard" >&2; exit 1; }
echo "ok  plain http redirects to https"

if ! (cd end2end && CI=1 PROXY_BASE_URL="$app_url" npx playwright test --project proxy); then
  show_logs
  exit 1
fi
# The access log joins nginx's request id with the app's.
grep -q 'app_id=[0-9a-f]\{32\}' "$work/access.log" \
  || { echo "error: the access log has no app request id" >&2; tail -n 5 "$work/access.log" >&2; exit 1; }
echo "ok  nginx's access log carries the app's request id"

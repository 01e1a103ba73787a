#!/bin/bash
# Container healthcheck without curl in the image: GET <path> on 127.0.0.1:$PINGVAS_PORT over
# bash's /dev/tcp, healthy on HTTP 200.  Usage: pingvas-healthcheck [/healthz|/readyz]
set -u
path="${1:-/healthz}"
exec 3<>"/dev/tcp/127.0.0.1/${PINGVAS_PORT:?}" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
read -r -t 3 _ status _ <&3 || exit 1
[ "$status" = 200 ]

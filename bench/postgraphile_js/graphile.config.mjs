// PostGraphile 5 for bench.postgraphile: the Amber preset over the bench database's `public` schema
// (our tables as they are: relations come from their foreign keys), one process, production mode.
// DATABASE_URL and PORT come from the bench. The connection is the superuser's: PostGraphile applies
// no row-level scope here (the bench's queries filter by the partner with `condition:` instead).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { makeJSONPgSmartTagsPlugin } from "postgraphile/utils";

// Smart tags instead of changes to our tables: credentials, sessions and bookkeeping are not
// exposed at all; one virtual foreign key (below).
const hidden = ["alembic_version", "api_tokens", "web_sessions", "users", "role_grants", "used_tokens",
  "login_attempts", "idempotency_keys", "outbox_emails", "clock_state", "deadlines", "audit_events",
  "consent_requests", "customer_users"];
const TagsPlugin = makeJSONPgSmartTagsPlugin({
  version: 1,
  config: {
    class: {
      ...Object.fromEntries(hidden.map((name) => [name, { tags: { behavior: "-*" } }])),
      // The usage rollup has no foreign key (rows outlive nothing; R-USE-08): a virtual one to the
      // customer gives the list its users' last active days (what `adoption` is computed from).
      usage_last_active: { tags: { foreignKey: "(org_id) references customer_orgs (id)" } },
    },
  },
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [TagsPlugin],
  // Conditions and orders on columns without an index too (trial_services.removed_at,
  // device_models.type…), so its queries can filter and order as ours do.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  grafserv: { port: Number(process.env.PORT), host: "127.0.0.1", graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;

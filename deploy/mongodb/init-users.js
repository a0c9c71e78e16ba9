// One MongoDB user per Porchlight service, allowed its own database and nothing else: a
// leaked signatures credential reads no contact and no session. The mongo image runs this
// once, when its data volume is first created (/docker-entrypoint-initdb.d); for a volume
// made before, run it yourself: deploy/README.md ("Database users").
const prefix = process.env.PORCHLIGHT_MONGODB_DB_PREFIX || "porchlight_";
const services = ["identity", "sharing", "documents", "signatures", "notifications"];
for (const service of services) {
  const variable = "MONGODB_PASSWORD_" + service.toUpperCase();
  const password = process.env[variable];
  if (!password) {
    throw new Error(variable + " is not set");
  }
  const name = prefix + service;
  db.getSiblingDB(name).createUser({
    user: "porchlight-" + service,
    pwd: password,
    roles: [{ role: "readWrite", db: name }],
  });
}

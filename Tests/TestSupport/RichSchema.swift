/// A schema covering what a snapshot must carry faithfully: the issue's list of types,
/// identifiers, table kinds and dependent objects.
public enum RichSchema {
    public static let sql = #"""
        CREATE EXTENSION IF NOT EXISTS citext;
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE TYPE address AS (street text, zip int);
        CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);

        CREATE TABLE everything (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            amount numeric(20, 6), ratio float8, note text, payload bytea, doc json, docb jsonb,
            tags text[], uid uuid, at timestamptz, span interval, ip inet, feeling mood, home address,
            count positive_int, period int4range, email citext,
            doubled numeric GENERATED ALWAYS AS (amount * 2) STORED
        );
        INSERT INTO everything (amount, ratio, note, payload, doc, docb, tags, uid, at, span, ip, feeling, home, count, period, email)
        VALUES
          (1.5, 'NaN', E'tab\there\nnew line \\ backslash \\N not null', '\x00ff00'::bytea, '{"a": [1, null]}', '{"b": {"c": true}}',
           ARRAY['x', NULL, 'z'], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-01-02 03:04:05.678+02', '1 year 2 days 03:04:05',
           '10.0.0.0/8', 'happy', ROW('Main St', 12345), 7, '[1,10)', 'Ops@Example.COM'),
          (-99999999999999.123456, 'Infinity', NULL, NULL, NULL, NULL, '{}', NULL, 'infinity', '-1 hour', '::1', 'sad', NULL, 1, 'empty', NULL),
          (0, '-Infinity', '\N', '\x'::bytea, 'null', '[]', ARRAY[NULL]::text[], NULL, NULL, NULL, NULL, NULL, ROW(NULL, NULL), 2, NULL, 'ünïcödé');
        INSERT INTO everything (amount, note) SELECT i, repeat(md5(i::text), 1 + i % 50) FROM generate_series(1, 3000) i;
        -- TOASTed values: large and poorly compressible.
        INSERT INTO everything (note, payload)
        SELECT string_agg(md5(random()::text || g), ''), decode(string_agg(md5(g::text), ''), 'hex')
        FROM generate_series(1, 20000) g;

        CREATE TABLE "Quoted ""Name""" ("Mixed Case" int PRIMARY KEY, "select" text);
        INSERT INTO "Quoted ""Name""" VALUES (1, 'reserved word column'), (2, NULL);
        CREATE TABLE "naïve_тест" (ключ int PRIMARY KEY, wert text);
        INSERT INTO "naïve_тест" VALUES (1, 'non-ASCII identifiers');

        CREATE TABLE parent (id int NOT NULL, at date NOT NULL, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
        CREATE TABLE parent_2025 PARTITION OF parent FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE parent_2026 PARTITION OF parent FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO parent SELECT i, DATE '2025-06-01' + (i % 400), 'v' || i FROM generate_series(1, 5000) i;

        CREATE TABLE child (id serial PRIMARY KEY, everything_id bigint REFERENCES everything (id), label text);
        INSERT INTO child (everything_id, label) SELECT id, 'child of ' || id FROM everything WHERE id <= 100;

        CREATE UNLOGGED TABLE scratch (k int, v text);
        INSERT INTO scratch SELECT i, 'u' || i FROM generate_series(1, 50) i;

        CREATE TABLE audit (at timestamptz DEFAULT now(), what text);
        CREATE FUNCTION log_child() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO audit (what) VALUES ('child ' || NEW.id); RETURN NEW; END $$;
        CREATE TRIGGER child_audit AFTER INSERT ON child FOR EACH ROW EXECUTE FUNCTION log_child();

        CREATE VIEW rich AS SELECT id, note FROM everything WHERE amount > 100;
        CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n, sum(amount) AS s FROM everything;
        CREATE SEQUENCE invoice_numbers START 1000;
        SELECT nextval('invoice_numbers'), nextval('invoice_numbers');
        CREATE SEQUENCE never_used;
        """#
}

-- 001: the archive. `articles` holds each story's latest version (upserted by id, a version
-- never replaced by an older one), `versions` every version once (by id and version), and
-- `clusters` one row per near-duplicate cluster. Full-text search: `tsv`, the title (weight
-- A) and body (weight B) in the text search configuration of the article's language.
CREATE TABLE articles (
    id text PRIMARY KEY,
    version integer NOT NULL,
    event text NOT NULL,
    stream_id text NOT NULL,
    cluster_id text,
    url text,
    canonical_url text,
    feed_url text,
    source text,
    title text NOT NULL,
    language text,
    ts_config regconfig NOT NULL,
    authors text[] NOT NULL,
    published_at timestamptz,
    fetched_at timestamptz,
    body text NOT NULL,
    data jsonb NOT NULL,
    tsv tsvector NOT NULL
);
CREATE INDEX articles_tsv ON articles USING gin (tsv);
CREATE INDEX articles_published ON articles (published_at DESC NULLS LAST);
CREATE INDEX articles_cluster ON articles (cluster_id);

CREATE TABLE versions (
    id text NOT NULL,
    version integer NOT NULL,
    event text NOT NULL,
    stream_id text NOT NULL,
    content_hash text,
    data jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version)
);

-- A cluster is named after its first story: cluster_id is that story's id.
CREATE TABLE clusters (
    cluster_id text PRIMARY KEY,
    stories integer NOT NULL,
    first_published timestamptz,
    last_published timestamptz
);

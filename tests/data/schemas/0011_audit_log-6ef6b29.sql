-- sitcen database as the code of commit 6ef6b297a4f84f25d38155b73ddf2b5a4b63a1b1 made it
-- (2026-12-06 Audit trail (issue 15): an append-only, hash-chained audit_log (migration 0011) of logins)
-- migrations recorded: 0001_initial, 0002_peers_agreements_leases, 0003_received_events, 0004_records_retractions, 0005_seen_batches, 0006_analysis_results, 0007_cursors, 0008_queue_stays, 0009_files, 0010_accounts, 0011_audit_log
-- made by scripts/make_schema_fixture.py; loaded by tests/test_upgrades.py
-- users' password: correct-horse-battery-staple-42
-- dialect: sqlite
CREATE TABLE schema_migrations (
	name VARCHAR(128) NOT NULL, 
	applied_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE agreements (
	id VARCHAR(128) NOT NULL, 
	version INTEGER NOT NULL, 
	document TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE analysis_results (
	name VARCHAR(64) NOT NULL, 
	computed_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE audit_log (
	seq BIGINT NOT NULL, 
	at BIGINT NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	detail TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_audit_log_actor ON audit_log (actor, seq);
CREATE TABLE border_sections (
	id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	name_ru TEXT NOT NULL, 
	country_a VARCHAR(2) NOT NULL, 
	country_b VARCHAR(2) NOT NULL, 
	length_km FLOAT NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	geometry TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE cursors (
	name VARCHAR(128) NOT NULL, 
	position BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE event_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE events (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	type VARCHAR(48) NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	occurred_at BIGINT NOT NULL, 
	reported_at BIGINT, 
	recorded_at BIGINT NOT NULL, 
	lon FLOAT, 
	lat FLOAT, 
	cell INTEGER, 
	section_id VARCHAR(64), 
	country VARCHAR(2), 
	impact_level VARCHAR(16), 
	status VARCHAR(16), 
	handling VARCHAR(16) NOT NULL, 
	follow_up_of VARCHAR(36), 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE TABLE files (
	sha256 VARCHAR(64) NOT NULL, 
	size BIGINT NOT NULL, 
	media_type VARCHAR(100) NOT NULL, 
	content BLOB NOT NULL, 
	thumbnail BLOB, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sha256)
);
CREATE TABLE journal (
	seq INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE leases (
	name VARCHAR(128) NOT NULL, 
	holder VARCHAR(128) NOT NULL, 
	expires_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE login_failures (
	"key" VARCHAR(200) NOT NULL, 
	failures INTEGER NOT NULL, 
	last_at BIGINT NOT NULL, 
	blocked_until BIGINT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE peers (
	node_id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	url TEXT NOT NULL, 
	public_key TEXT NOT NULL, 
	relation VARCHAR(16) NOT NULL, 
	agreement_id VARCHAR(128), 
	acked_seq BIGINT NOT NULL, 
	received_seq BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (node_id)
);
CREATE TABLE personal_data (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_personal_data_event ON personal_data (event_id);
CREATE TABLE queue_stays (
	event_id VARCHAR(36) NOT NULL, 
	level VARCHAR(32) NOT NULL, 
	round INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	entered_at BIGINT NOT NULL, 
	left_at BIGINT, 
	state VARCHAR(16) NOT NULL, 
	acted_by VARCHAR(64), 
	acted_node VARCHAR(64), 
	act_id VARCHAR(36), 
	note TEXT, 
	priority SMALLINT NOT NULL, 
	late BOOLEAN NOT NULL, 
	awaiting_correction BOOLEAN NOT NULL, 
	PRIMARY KEY (event_id, level, round)
);
CREATE INDEX ix_queue_stays_left ON queue_stays (left_at);
CREATE INDEX ix_queue_stays_queue ON queue_stays (level, state, priority, entered_at, event_id);
CREATE TABLE record_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE records (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	subject VARCHAR(128), 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_records_kind_subject ON records (kind, subject, recorded_at);
CREATE TABLE retractions (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	reason TEXT NOT NULL, 
	provenance TEXT NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE seen_batches (
	sender VARCHAR(128) NOT NULL, 
	batch_id VARCHAR(36) NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sender, batch_id)
);
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	expires_at BIGINT NOT NULL, 
	kind VARCHAR(16), 
	address VARCHAR(64), 
	PRIMARY KEY (token_hash)
);
CREATE INDEX ix_tokens_username ON tokens (username);
CREATE TABLE users (
	username VARCHAR(64) NOT NULL, 
	full_name TEXT NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash TEXT NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
);
-- dialect: postgresql
CREATE TABLE agreements (
	id VARCHAR(128) NOT NULL, 
	version INTEGER NOT NULL, 
	document TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE analysis_results (
	name VARCHAR(64) NOT NULL, 
	computed_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE audit_log (
	seq BIGINT NOT NULL, 
	at BIGINT NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	detail TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE INDEX ix_audit_log_actor ON audit_log (actor, seq);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TABLE border_sections (
	id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	name_ru TEXT NOT NULL, 
	country_a VARCHAR(2) NOT NULL, 
	country_b VARCHAR(2) NOT NULL, 
	length_km FLOAT NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	geometry TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE cursors (
	name VARCHAR(128) NOT NULL, 
	position BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE event_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE events (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	type VARCHAR(48) NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	occurred_at BIGINT NOT NULL, 
	reported_at BIGINT, 
	recorded_at BIGINT NOT NULL, 
	lon FLOAT, 
	lat FLOAT, 
	cell INTEGER, 
	section_id VARCHAR(64), 
	country VARCHAR(2), 
	impact_level VARCHAR(16), 
	status VARCHAR(16), 
	handling VARCHAR(16) NOT NULL, 
	follow_up_of VARCHAR(36), 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE TABLE files (
	sha256 VARCHAR(64) NOT NULL, 
	size BIGINT NOT NULL, 
	media_type VARCHAR(100) NOT NULL, 
	content BYTEA NOT NULL, 
	thumbnail BYTEA, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sha256)
);
CREATE TABLE journal (
	seq BIGSERIAL NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE leases (
	name VARCHAR(128) NOT NULL, 
	holder VARCHAR(128) NOT NULL, 
	expires_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE login_failures (
	key VARCHAR(200) NOT NULL, 
	failures INTEGER NOT NULL, 
	last_at BIGINT NOT NULL, 
	blocked_until BIGINT NOT NULL, 
	PRIMARY KEY (key)
);
CREATE TABLE peers (
	node_id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	url TEXT NOT NULL, 
	public_key TEXT NOT NULL, 
	relation VARCHAR(16) NOT NULL, 
	agreement_id VARCHAR(128), 
	acked_seq BIGINT NOT NULL, 
	received_seq BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (node_id)
);
CREATE TABLE personal_data (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_personal_data_event ON personal_data (event_id);
CREATE TABLE queue_stays (
	event_id VARCHAR(36) NOT NULL, 
	level VARCHAR(32) NOT NULL, 
	round INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	entered_at BIGINT NOT NULL, 
	left_at BIGINT, 
	state VARCHAR(16) NOT NULL, 
	acted_by VARCHAR(64), 
	acted_node VARCHAR(64), 
	act_id VARCHAR(36), 
	note TEXT, 
	priority SMALLINT NOT NULL, 
	late BOOLEAN NOT NULL, 
	awaiting_correction BOOLEAN NOT NULL, 
	PRIMARY KEY (event_id, level, round)
);
CREATE INDEX ix_queue_stays_left ON queue_stays (left_at);
CREATE INDEX ix_queue_stays_queue ON queue_stays (level, state, priority, entered_at, event_id);
CREATE TABLE record_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE records (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	subject VARCHAR(128), 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_records_kind_subject ON records (kind, subject, recorded_at);
CREATE TABLE retractions (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	reason TEXT NOT NULL, 
	provenance TEXT NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE schema_migrations (
	name VARCHAR(128) NOT NULL, 
	applied_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE seen_batches (
	sender VARCHAR(128) NOT NULL, 
	batch_id VARCHAR(36) NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sender, batch_id)
);
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	expires_at BIGINT NOT NULL, 
	kind VARCHAR(16), 
	address VARCHAR(64), 
	PRIMARY KEY (token_hash)
);
CREATE INDEX ix_tokens_username ON tokens (username);
CREATE TABLE users (
	username VARCHAR(64) NOT NULL, 
	full_name TEXT NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash TEXT NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
);
-- dialect: all
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (1, 1796573004576470, 'op.one', 'login', '4d9c658ba3958e6c', '{"address":"testclient","kind":"bearer"}', '0000000000000000000000000000000000000000000000000000000000000000', '3b420a2aae2e978a4510980426468fa59bc5fa855a45ebfe3b54792243ca878f');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (2, 1796573007142964, 'duty.one', 'login', 'af0bf281376c46e6', '{"address":"testclient","kind":"bearer"}', '3b420a2aae2e978a4510980426468fa59bc5fa855a45ebfe3b54792243ca878f', 'ad731906e9a3deeef9cc07f5fc544da36cf633260ccacc04d1804ae41ff0cc44');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (3, 1796573010837790, 'admin', 'login', 'a6e1d2e7911fa5ce', '{"address":"testclient","kind":"bearer"}', 'ad731906e9a3deeef9cc07f5fc544da36cf633260ccacc04d1804ae41ff0cc44', '9c8caa76cd727c2369bdf6e2adb97107205c6c568ce86224a9e0a95fc17e50f6');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (4, 1796573015943328, 'duty.one', 'login_failed', 'duty.one', '{"address":"testclient","blocked_s":0}', '9c8caa76cd727c2369bdf6e2adb97107205c6c568ce86224a9e0a95fc17e50f6', 'f51712afc5efd59ad07adbb44421ef8396378728da2f52262d055420c056ede4');
INSERT INTO border_sections (id, name, name_ru, country_a, country_b, length_km, source, geometry) VALUES ('AF-TJ-003', 'Afghanistan–Tajikistan section 3', 'Афганистан–Таджикистан, участок 3', 'AF', 'TJ', 51.0, 'default', '{"type":"LineString","coordinates":[[68.496,37.1612],[68.5141,37.1645],[68.5249,37.1645],[68.5321,37.1695],[68.5465,37.1881],[68.5501,37.1932],[68.5717,37.1948],[68.6077,37.2033],[68.6257,37.2067],[68.6293,37.2134],[68.6365,37.2303],[68.6473,37.2438],[68.6725,37.2472],[68.6653,37.259],[68.6617,37.2641],[68.6581,37.2675],[68.6689,37.2776],[68.6869,37.2793],[68.7265,37.2742],[68.7481,37.2759],[68.7589,37.2759],[68.7697,37.2708],[68.8093,37.2523],[68.8201,37.2506],[68.8237,37.2607],[68.8237,37.2827],[68.8093,37.3114],[68.8129,37.3232],[68.8345,37.3299],[68.8558,37.3249]]}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('a53b3604-1266-47e7-92c2-96b527e6e6e4', 1, 1796573011085157, '{"id":"a53b3604-1266-47e7-92c2-96b527e6e6e4","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:31.085157Z","recorded_at":"2026-12-06T16:03:31.085157Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('a53b3604-1266-47e7-92c2-96b527e6e6e4', 2, 1796573011154714, '{"id":"a53b3604-1266-47e7-92c2-96b527e6e6e4","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:31.085157Z","recorded_at":"2026-12-06T16:03:31.154714Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('42775ebc-4bbc-4cf0-9eb2-22ef18a80d72', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796573011107373, 1796573011107373, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"42775ebc-4bbc-4cf0-9eb2-22ef18a80d72","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:03:31.107373Z","recorded_at":"2026-12-06T16:03:31.107373Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('979a6249-2b34-4ab4-b852-aadfb7f8bbaf', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796573011302646, 1796573011302646, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', 'a53b3604-1266-47e7-92c2-96b527e6e6e4', '{"id":"979a6249-2b34-4ab4-b852-aadfb7f8bbaf","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:31.302646Z","recorded_at":"2026-12-06T16:03:31.302646Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"a53b3604-1266-47e7-92c2-96b527e6e6e4","has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('a53b3604-1266-47e7-92c2-96b527e6e6e4', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796573011085157, 1796573011200950, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"a53b3604-1266-47e7-92c2-96b527e6e6e4","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:31.085157Z","recorded_at":"2026-12-06T16:03:31.200950Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"duty.one","full_name":"Duty Officer One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}', NULL, NULL);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', 'a53b3604-1266-47e7-92c2-96b527e6e6e4', 1, 'event', 1796573011086708);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', '6dc650b7-1ba2-4b53-ad02-226ccbe3fa9a', 1, 'personal_data', 1796573011086708);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '42775ebc-4bbc-4cf0-9eb2-22ef18a80d72', 1, 'event', 1796573011108255);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', 'a53b3604-1266-47e7-92c2-96b527e6e6e4', 2, 'event', 1796573011156678);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', 'a53b3604-1266-47e7-92c2-96b527e6e6e4', 3, 'event', 1796573011202791);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '979a6249-2b34-4ab4-b852-aadfb7f8bbaf', 1, 'event', 1796573011305533);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (7, 'tj-panj-post', '147977df-0142-4443-b000-f2721df76105', 1, 'asset_position', 1796573014709500);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('address:testclient', 1, 1796573015935675, 1796573015935675);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('user:duty.one', 1, 1796573015935675, 1796573015935675);
INSERT INTO peers (node_id, name, url, public_key, relation, agreement_id, acked_seq, received_seq, created_at, updated_at) VALUES ('tj-dushanbe-centre', 'Dushanbe centre', 'https://centre.example:8443', 'ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg', 'parent', NULL, 0, 0, 1796573014712431, 1796573014712431);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('6dc650b7-1ba2-4b53-ad02-226ccbe3fa9a', 'tj-panj-post', 1, 'a53b3604-1266-47e7-92c2-96b527e6e6e4', 1796573011085157, '{"event_id":"a53b3604-1266-47e7-92c2-96b527e6e6e4","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO records (id, origin, version, kind, subject, recorded_at, body, provenance, sharing) VALUES ('147977df-0142-4443-b000-f2721df76105', 'tj-panj-post', 1, 'asset_position', 'patrol-7', 1796573014709298, '{"asset_id":"patrol-7","kind":"patrol","name":"Patrol 7","status":"active","location":{"lon":68.62,"lat":37.21},"at":"2026-11-20T08:00:00Z","section_id":"AF-TJ-003","country":"TJ","handling":"AMBER"}', NULL, NULL);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796572999002242);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0002_peers_agreements_leases', 1796572999003891);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0003_received_events', 1796572999004915);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0004_records_retractions', 1796572999010337);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0005_seen_batches', 1796572999010850);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0006_analysis_results', 1796572999011252);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0007_cursors', 1796572999011607);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0008_queue_stays', 1796572999012768);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0009_files', 1796572999013200);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0010_accounts', 1796572999013761);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0011_audit_log', 1796572999023216);
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('4d9c658ba3958e6cb45921cfd557326ccfb5089370937bf7e63a7bc6fcd982d0', 'op.one', 1796573004575144, 1796616204575144, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('a6e1d2e7911fa5cec97dd2f7594a801da44323723608756a9bba0f4fec70ebc4', 'admin', 1796573010837213, 1796616210837213, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('af0bf281376c46e60200f06a3cb1b0e124e2ce1c35fd34ee39c5a9d30f5f0d30', 'duty.one', 1796573007133497, 1796616207133497, 'bearer', 'testclient');
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$uEwP6x9wHojK8LYD3FZjaA$8nB166kIsYHTmZvwUn+oPZoHnOOaR+MyoFaOB6kaP2Q', FALSE, 1796573000100002);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$n7T1uty53OcPGXwEvgVJcw$1RQHlXCfM88QcC873ON2caERRS0jGdIiPjuMbcsZNMY', FALSE, 1796573001560227);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$vUiXe1d2oQ8ICjECYannyA$hX3zVi5722SkBUQlldo6kvzoyzHDPfAsL9eDrPjqS5k', FALSE, 1796573000831903);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

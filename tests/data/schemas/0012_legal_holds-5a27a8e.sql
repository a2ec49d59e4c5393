-- sitcen database as the code of commit 5a27a8e68ac80943bfc05cd2abcc71bf31011628 made it
-- (2026-12-06 Merge branch 'retention')
-- migrations recorded: 0001_initial, 0002_peers_agreements_leases, 0003_received_events, 0004_records_retractions, 0005_seen_batches, 0006_analysis_results, 0007_cursors, 0008_queue_stays, 0009_files, 0010_accounts, 0011_audit_log, 0012_legal_holds
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
CREATE TABLE legal_holds (
	id VARCHAR(36) NOT NULL, 
	scope VARCHAR(16) NOT NULL, 
	value VARCHAR(128) NOT NULL, 
	reason TEXT NOT NULL, 
	held_by VARCHAR(64) NOT NULL, 
	held_at BIGINT NOT NULL, 
	released_by VARCHAR(64), 
	released_at BIGINT, 
	PRIMARY KEY (id)
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
CREATE INDEX ix_queue_stays_queue ON queue_stays (level, state, priority, entered_at, event_id);
CREATE INDEX ix_queue_stays_left ON queue_stays (left_at);
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
CREATE TABLE legal_holds (
	id VARCHAR(36) NOT NULL, 
	scope VARCHAR(16) NOT NULL, 
	value VARCHAR(128) NOT NULL, 
	reason TEXT NOT NULL, 
	held_by VARCHAR(64) NOT NULL, 
	held_at BIGINT NOT NULL, 
	released_by VARCHAR(64), 
	released_at BIGINT, 
	PRIMARY KEY (id)
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
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (1, 1796573036044849, 'op.one', 'login', '966f1291fcfa1882', '{"address":"testclient","kind":"bearer"}', '0000000000000000000000000000000000000000000000000000000000000000', '1f84ed4cd395f0b171cff4990781d9dc6896157271e0b0eb3e96d11f4b14b4e9');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (2, 1796573036610562, 'duty.one', 'login', '6944d3d0fec7d715', '{"address":"testclient","kind":"bearer"}', '1f84ed4cd395f0b171cff4990781d9dc6896157271e0b0eb3e96d11f4b14b4e9', 'fd8e2f4a96d4e54fc48949d605cdcf1dfe9d1b50423cc7d5f276a89ea3b790ea');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (3, 1796573037152062, 'admin', 'login', 'dda6de1304cae9e1', '{"address":"testclient","kind":"bearer"}', 'fd8e2f4a96d4e54fc48949d605cdcf1dfe9d1b50423cc7d5f276a89ea3b790ea', '80ad490b658856fdb121b7183268d47f7c0d5f274c367a86df016e1d94b72001');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (4, 1796573039431352, 'duty.one', 'login_failed', 'duty.one', '{"address":"testclient","blocked_s":0}', '80ad490b658856fdb121b7183268d47f7c0d5f274c367a86df016e1d94b72001', '12e0a12f1b5a180cff3e8f6a242da56cc20768a69b3b7b2142e112c23fd0671c');
INSERT INTO border_sections (id, name, name_ru, country_a, country_b, length_km, source, geometry) VALUES ('AF-TJ-003', 'Afghanistan–Tajikistan section 3', 'Афганистан–Таджикистан, участок 3', 'AF', 'TJ', 51.0, 'default', '{"type":"LineString","coordinates":[[68.496,37.1612],[68.5141,37.1645],[68.5249,37.1645],[68.5321,37.1695],[68.5465,37.1881],[68.5501,37.1932],[68.5717,37.1948],[68.6077,37.2033],[68.6257,37.2067],[68.6293,37.2134],[68.6365,37.2303],[68.6473,37.2438],[68.6725,37.2472],[68.6653,37.259],[68.6617,37.2641],[68.6581,37.2675],[68.6689,37.2776],[68.6869,37.2793],[68.7265,37.2742],[68.7481,37.2759],[68.7589,37.2759],[68.7697,37.2708],[68.8093,37.2523],[68.8201,37.2506],[68.8237,37.2607],[68.8237,37.2827],[68.8093,37.3114],[68.8129,37.3232],[68.8345,37.3299],[68.8558,37.3249]]}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('ae37f7ab-5906-46fa-8556-dec83a473c78', 1, 1796573037269062, '{"id":"ae37f7ab-5906-46fa-8556-dec83a473c78","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:57.269062Z","recorded_at":"2026-12-06T16:03:57.269062Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('ae37f7ab-5906-46fa-8556-dec83a473c78', 2, 1796573037307223, '{"id":"ae37f7ab-5906-46fa-8556-dec83a473c78","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:57.269062Z","recorded_at":"2026-12-06T16:03:57.307223Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('0728223d-2825-49dd-9ae6-bc12def04b4d', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796573037283702, 1796573037283702, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"0728223d-2825-49dd-9ae6-bc12def04b4d","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:03:57.283702Z","recorded_at":"2026-12-06T16:03:57.283702Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('ae37f7ab-5906-46fa-8556-dec83a473c78', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796573037269062, 1796573037320410, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"ae37f7ab-5906-46fa-8556-dec83a473c78","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:57.269062Z","recorded_at":"2026-12-06T16:03:57.320410Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"duty.one","full_name":"Duty Officer One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('f7f2daad-9af0-4bd4-8db7-104d256a7930', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796573037334286, 1796573037334286, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', 'ae37f7ab-5906-46fa-8556-dec83a473c78', '{"id":"f7f2daad-9af0-4bd4-8db7-104d256a7930","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:03:57.334286Z","recorded_at":"2026-12-06T16:03:57.334286Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"ae37f7ab-5906-46fa-8556-dec83a473c78","has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}', NULL, NULL);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', 'ae37f7ab-5906-46fa-8556-dec83a473c78', 1, 'event', 1796573037270042);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', '2c085324-25d6-4f8f-b958-9394b31ead24', 1, 'personal_data', 1796573037270042);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '0728223d-2825-49dd-9ae6-bc12def04b4d', 1, 'event', 1796573037284516);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', 'ae37f7ab-5906-46fa-8556-dec83a473c78', 2, 'event', 1796573037308332);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', 'ae37f7ab-5906-46fa-8556-dec83a473c78', 3, 'event', 1796573037321498);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', 'f7f2daad-9af0-4bd4-8db7-104d256a7930', 1, 'event', 1796573037335852);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (7, 'tj-panj-post', '91b5fbcb-1e53-46fc-a461-54d31066938b', 1, 'asset_position', 1796573039119630);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('address:testclient', 1, 1796573039419818, 1796573039419818);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('user:duty.one', 1, 1796573039419818, 1796573039419818);
INSERT INTO peers (node_id, name, url, public_key, relation, agreement_id, acked_seq, received_seq, created_at, updated_at) VALUES ('tj-dushanbe-centre', 'Dushanbe centre', 'https://centre.example:8443', 'ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg', 'parent', NULL, 0, 0, 1796573039124443, 1796573039124443);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('2c085324-25d6-4f8f-b958-9394b31ead24', 'tj-panj-post', 1, 'ae37f7ab-5906-46fa-8556-dec83a473c78', 1796573037269062, '{"event_id":"ae37f7ab-5906-46fa-8556-dec83a473c78","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO records (id, origin, version, kind, subject, recorded_at, body, provenance, sharing) VALUES ('91b5fbcb-1e53-46fc-a461-54d31066938b', 'tj-panj-post', 1, 'asset_position', 'patrol-7', 1796573039119490, '{"asset_id":"patrol-7","kind":"patrol","name":"Patrol 7","status":"active","location":{"lon":68.62,"lat":37.21},"at":"2026-11-20T08:00:00Z","section_id":"AF-TJ-003","country":"TJ","handling":"AMBER"}', NULL, NULL);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796573033467167);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0002_peers_agreements_leases', 1796573033468228);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0003_received_events', 1796573033468934);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0004_records_retractions', 1796573033469658);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0005_seen_batches', 1796573033477723);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0006_analysis_results', 1796573033478155);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0007_cursors', 1796573033478377);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0008_queue_stays', 1796573033479129);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0009_files', 1796573033479351);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0010_accounts', 1796573033479703);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0011_audit_log', 1796573033480332);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0012_legal_holds', 1796573033480531);
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('6944d3d0fec7d71581e82712017938ee989afa1c1951fd9c3c49f26b7f136774', 'duty.one', 1796573036605182, 1796616236605182, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('966f1291fcfa18826455bd48932b0d363d47cdb22c57296a40bd8d804522847c', 'op.one', 1796573036043156, 1796616236043156, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('dda6de1304cae9e17d718bca9b955829fc288cac14db68078dfd415ce43e25f2', 'admin', 1796573037151479, 1796616237151479, 'bearer', 'testclient');
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$UNE/3c1HLCI4TRuvFShsZQ$KvOuS/i+7YtrTw9YbFJGroYLg2/7GGHAw8x1Y0fLVtI', FALSE, 1796573034259376);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$McBmRV/Tels8qKep7XmcEw$9JglXBU2yiMLGiskHUQDYfHztc6CjRTauGPOlLr0Nqg', FALSE, 1796573035312791);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$CKdADXvLDZLdhpgcd4/mCg$LqcsKlvIOOfOXnHjY/VC/Q6AP5TpaTtNU7hgOPNLej0', FALSE, 1796573034761725);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

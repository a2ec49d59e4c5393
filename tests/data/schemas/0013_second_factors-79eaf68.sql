-- sitcen database as the code of commit 79eaf68871fdbf311e2469be1d8544f039ae4dcd made it
-- (2026-12-06 Merge branch 'totp' (second factor, audit anchors))
-- migrations recorded: 0001_initial, 0002_peers_agreements_leases, 0003_received_events, 0004_records_retractions, 0005_seen_batches, 0006_analysis_results, 0007_cursors, 0008_queue_stays, 0009_files, 0010_accounts, 0011_audit_log, 0012_legal_holds, 0013_second_factors
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
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
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
CREATE TABLE second_factors (
	username VARCHAR(64) NOT NULL, 
	sealed_secret TEXT NOT NULL, 
	confirmed BOOLEAN NOT NULL, 
	last_step BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
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
CREATE TABLE second_factors (
	username VARCHAR(64) NOT NULL, 
	sealed_secret TEXT NOT NULL, 
	confirmed BOOLEAN NOT NULL, 
	last_step BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
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
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (1, 1796573502158265, 'op.one', 'login', '4694ff0f684f3396', '{"address":"testclient","kind":"bearer","second_factor_setup":false}', '0000000000000000000000000000000000000000000000000000000000000000', '1e799c772aa1bbf6d437ca7527ecda57ac82c6d5c23ed8d068a1374493f59579');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (2, 1796573502905034, 'duty.one', 'login', '14d108db85585f06', '{"address":"testclient","kind":"bearer","second_factor_setup":false}', '1e799c772aa1bbf6d437ca7527ecda57ac82c6d5c23ed8d068a1374493f59579', '68e1c51f1ab68ea23abd35fa5b3340998519867cf58e242d1391e6beb20ea319');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (3, 1796573503461804, 'admin', 'login', '40618a245cdd4cdc', '{"address":"testclient","kind":"bearer","second_factor_setup":false}', '68e1c51f1ab68ea23abd35fa5b3340998519867cf58e242d1391e6beb20ea319', 'f38eaf2d6438e58d36374012d8308c7be5732efb1888694bedbc8f91d06166c7');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (4, 1796573505909435, 'duty.one', 'login_failed', 'duty.one', '{"address":"testclient","blocked_s":0}', 'f38eaf2d6438e58d36374012d8308c7be5732efb1888694bedbc8f91d06166c7', '0992e7673cc33480c48673ff0bea5b60ae1d42db5c66eea74984a908467bc361');
INSERT INTO border_sections (id, name, name_ru, country_a, country_b, length_km, source, geometry) VALUES ('AF-TJ-003', 'Afghanistan–Tajikistan section 3', 'Афганистан–Таджикистан, участок 3', 'AF', 'TJ', 51.0, 'default', '{"type":"LineString","coordinates":[[68.496,37.1612],[68.5141,37.1645],[68.5249,37.1645],[68.5321,37.1695],[68.5465,37.1881],[68.5501,37.1932],[68.5717,37.1948],[68.6077,37.2033],[68.6257,37.2067],[68.6293,37.2134],[68.6365,37.2303],[68.6473,37.2438],[68.6725,37.2472],[68.6653,37.259],[68.6617,37.2641],[68.6581,37.2675],[68.6689,37.2776],[68.6869,37.2793],[68.7265,37.2742],[68.7481,37.2759],[68.7589,37.2759],[68.7697,37.2708],[68.8093,37.2523],[68.8201,37.2506],[68.8237,37.2607],[68.8237,37.2827],[68.8093,37.3114],[68.8129,37.3232],[68.8345,37.3299],[68.8558,37.3249]]}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('98142c3a-7a33-4a6f-9e89-cbd92a0af536', 1, 1796573503614641, '{"id":"98142c3a-7a33-4a6f-9e89-cbd92a0af536","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:11:43.614641Z","recorded_at":"2026-12-06T16:11:43.614641Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('98142c3a-7a33-4a6f-9e89-cbd92a0af536', 2, 1796573503659707, '{"id":"98142c3a-7a33-4a6f-9e89-cbd92a0af536","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:11:43.614641Z","recorded_at":"2026-12-06T16:11:43.659707Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('53153f4d-fd8b-47e6-9b7b-123c33db23ae', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796573503629937, 1796573503629937, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"53153f4d-fd8b-47e6-9b7b-123c33db23ae","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:11:43.629937Z","recorded_at":"2026-12-06T16:11:43.629937Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('75cffe83-932a-45a7-b8f5-a4e9980c3fb1', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796573503702489, 1796573503702489, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', '98142c3a-7a33-4a6f-9e89-cbd92a0af536', '{"id":"75cffe83-932a-45a7-b8f5-a4e9980c3fb1","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:11:43.702489Z","recorded_at":"2026-12-06T16:11:43.702489Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"98142c3a-7a33-4a6f-9e89-cbd92a0af536","has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('98142c3a-7a33-4a6f-9e89-cbd92a0af536', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796573503614641, 1796573503686311, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"98142c3a-7a33-4a6f-9e89-cbd92a0af536","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:11:43.614641Z","recorded_at":"2026-12-06T16:11:43.686311Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"duty.one","full_name":"Duty Officer One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}', NULL, NULL);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', '98142c3a-7a33-4a6f-9e89-cbd92a0af536', 1, 'event', 1796573503615680);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', 'b8937e50-ca5d-4ac3-be96-890d76d6f86d', 1, 'personal_data', 1796573503615680);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '53153f4d-fd8b-47e6-9b7b-123c33db23ae', 1, 'event', 1796573503630804);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', '98142c3a-7a33-4a6f-9e89-cbd92a0af536', 2, 'event', 1796573503660839);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', '98142c3a-7a33-4a6f-9e89-cbd92a0af536', 3, 'event', 1796573503687595);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '75cffe83-932a-45a7-b8f5-a4e9980c3fb1', 1, 'event', 1796573503703997);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (7, 'tj-panj-post', '060ffcf7-8845-4325-9726-2ff3c350a6df', 1, 'asset_position', 1796573505458967);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('address:testclient', 1, 1796573505906344, 1796573505906344);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('user:duty.one', 1, 1796573505906344, 1796573505906344);
INSERT INTO peers (node_id, name, url, public_key, relation, agreement_id, acked_seq, received_seq, created_at, updated_at) VALUES ('tj-dushanbe-centre', 'Dushanbe centre', 'https://centre.example:8443', 'ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg', 'parent', NULL, 0, 0, 1796573505461480, 1796573505461480);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('b8937e50-ca5d-4ac3-be96-890d76d6f86d', 'tj-panj-post', 1, '98142c3a-7a33-4a6f-9e89-cbd92a0af536', 1796573503614641, '{"event_id":"98142c3a-7a33-4a6f-9e89-cbd92a0af536","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO records (id, origin, version, kind, subject, recorded_at, body, provenance, sharing) VALUES ('060ffcf7-8845-4325-9726-2ff3c350a6df', 'tj-panj-post', 1, 'asset_position', 'patrol-7', 1796573505458809, '{"asset_id":"patrol-7","kind":"patrol","name":"Patrol 7","status":"active","location":{"lon":68.62,"lat":37.21},"at":"2026-11-20T08:00:00Z","section_id":"AF-TJ-003","country":"TJ","handling":"AMBER"}', NULL, NULL);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796573499486299);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0002_peers_agreements_leases', 1796573499487540);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0003_received_events', 1796573499494482);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0004_records_retractions', 1796573499495671);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0005_seen_batches', 1796573499495959);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0006_analysis_results', 1796573499496172);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0007_cursors', 1796573499496388);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0008_queue_stays', 1796573499497068);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0009_files', 1796573499497279);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0010_accounts', 1796573499497649);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0011_audit_log', 1796573499501679);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0012_legal_holds', 1796573499503894);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0013_second_factors', 1796573499504161);
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('14d108db85585f069146f33fb8d07fc02de2e8fd0ff9f7f7c2de6df79b8032ae', 'duty.one', 1796573502903972, 1796616702903972, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('40618a245cdd4cdc157298319da7aed3607e95e4f3b5685026f1ba9db21899c9', 'admin', 1796573503461248, 1796616703461248, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('4694ff0f684f3396d86f4aea1acefa42fc251cb9945224fa1409ce48ea648146', 'op.one', 1796573502151892, 1796616702151892, 'bearer', 'testclient');
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$fuiSV8TR5sZwep8pkhbWkA$xGymlDhjf9difHW1l1vRwKq5ZI4p26xLZ8Qw2GCtjCU', FALSE, 1796573500285553);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$Uhgr+HVv+Lt/Ktpwm9Sxqw$q+mRGb1juuADQ0pNY2vrssXs5PI3/HfDOpW2Ga6hTfs', FALSE, 1796573501420403);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$/3uBiRTyyq9OXPfNisuMuA$fH69czEUbiVVGHx83FVInYZ0nEhUI7Njz0jR2cGO1x0', FALSE, 1796573500894577);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

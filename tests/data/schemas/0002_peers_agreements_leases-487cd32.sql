-- sitcen database as the code of commit 487cd32f164e53d17de5ad3ee6fd31ab6f2528b3 made it
-- (2026-11-29 Leases: one holder per named job across a node's processes (both backends), for senders t)
-- migrations recorded: 0001_initial, 0002_peers_agreements_leases
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
	reported_at BIGINT NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	lon FLOAT NOT NULL, 
	lat FLOAT NOT NULL, 
	cell INTEGER NOT NULL, 
	section_id VARCHAR(64), 
	country VARCHAR(2) NOT NULL, 
	impact_level VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	handling VARCHAR(16) NOT NULL, 
	follow_up_of VARCHAR(36), 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
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
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	expires_at BIGINT NOT NULL, 
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
	reported_at BIGINT NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	lon FLOAT NOT NULL, 
	lat FLOAT NOT NULL, 
	cell INTEGER NOT NULL, 
	section_id VARCHAR(64), 
	country VARCHAR(2) NOT NULL, 
	impact_level VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	handling VARCHAR(16) NOT NULL, 
	follow_up_of VARCHAR(36), 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
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
CREATE TABLE schema_migrations (
	name VARCHAR(128) NOT NULL, 
	applied_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	expires_at BIGINT NOT NULL, 
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
INSERT INTO border_sections (id, name, name_ru, country_a, country_b, length_km, source, geometry) VALUES ('AF-TJ-003', 'Afghanistan–Tajikistan section 3', 'Афганистан–Таджикистан, участок 3', 'AF', 'TJ', 51.0, 'default', '{"type":"LineString","coordinates":[[68.496,37.1612],[68.5141,37.1645],[68.5249,37.1645],[68.5321,37.1695],[68.5465,37.1881],[68.5501,37.1932],[68.5717,37.1948],[68.6077,37.2033],[68.6257,37.2067],[68.6293,37.2134],[68.6365,37.2303],[68.6473,37.2438],[68.6725,37.2472],[68.6653,37.259],[68.6617,37.2641],[68.6581,37.2675],[68.6689,37.2776],[68.6869,37.2793],[68.7265,37.2742],[68.7481,37.2759],[68.7589,37.2759],[68.7697,37.2708],[68.8093,37.2523],[68.8201,37.2506],[68.8237,37.2607],[68.8237,37.2827],[68.8093,37.3114],[68.8129,37.3232],[68.8345,37.3299],[68.8558,37.3249]]}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('3e072e33-3a72-4970-8061-1e1234751486', 1, 1796572896387100, '{"id":"3e072e33-3a72-4970-8061-1e1234751486","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:36.387100Z","recorded_at":"2026-12-06T16:01:36.387100Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('3e072e33-3a72-4970-8061-1e1234751486', 2, 1796572896423366, '{"id":"3e072e33-3a72-4970-8061-1e1234751486","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:36.387100Z","recorded_at":"2026-12-06T16:01:36.423366Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('027fadfd-8bc7-45d9-adcb-1887482b727a', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796572896452600, 1796572896452600, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', '3e072e33-3a72-4970-8061-1e1234751486', '{"id":"027fadfd-8bc7-45d9-adcb-1887482b727a","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:36.452600Z","recorded_at":"2026-12-06T16:01:36.452600Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"3e072e33-3a72-4970-8061-1e1234751486","has_personal_data":false,"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('3e072e33-3a72-4970-8061-1e1234751486', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796572896387100, 1796572896446342, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"3e072e33-3a72-4970-8061-1e1234751486","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:36.387100Z","recorded_at":"2026-12-06T16:01:36.446342Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('4fc99902-7c66-4e22-9305-0c6af3147639', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796572896402047, 1796572896402047, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"4fc99902-7c66-4e22-9305-0c6af3147639","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:01:36.402047Z","recorded_at":"2026-12-06T16:01:36.402047Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}');
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', '3e072e33-3a72-4970-8061-1e1234751486', 1, 'event', 1796572896388202);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', '9f035786-e3e1-4c0d-83d7-a3776488a0f5', 1, 'personal_data', 1796572896388202);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '4fc99902-7c66-4e22-9305-0c6af3147639', 1, 'event', 1796572896402918);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', '3e072e33-3a72-4970-8061-1e1234751486', 2, 'event', 1796572896424451);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', '3e072e33-3a72-4970-8061-1e1234751486', 3, 'event', 1796572896447495);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '027fadfd-8bc7-45d9-adcb-1887482b727a', 1, 'event', 1796572896454028);
INSERT INTO peers (node_id, name, url, public_key, relation, agreement_id, acked_seq, received_seq, created_at, updated_at) VALUES ('tj-dushanbe-centre', 'Dushanbe centre', 'https://centre.example:8443', 'ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg', 'parent', NULL, 0, 0, 1796572896765618, 1796572896765618);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('9f035786-e3e1-4c0d-83d7-a3776488a0f5', 'tj-panj-post', 1, '3e072e33-3a72-4970-8061-1e1234751486', 1796572896387100, '{"event_id":"3e072e33-3a72-4970-8061-1e1234751486","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796572893068729);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0002_peers_agreements_leases', 1796572893069834);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('b3b1f370035935a6c69c7301df357d86e6710afb927480d17459b5137fb8f244', 'op.one', 1796572895556656, 1796616095556656);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('d71726b374ceff99b1411c91264058c0440e0f38001c6145fe75f99b5136769a', 'admin', 1796572896338418, 1796616096338418);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('e6efd9cf6f096f2cf0877f2280e251757b3acaf879917096d0b10e9a137e0501', 'duty.one', 1796572895937254, 1796616095937254);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$ZNhY11Y8d8oBkFj4d/DDVw$fr2QsD4V0QUyEC5rXDGPVfJMoPehDuIkA0d+cX5zbGw', FALSE, 1796572893947852);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$VdCpljJjVjH/gcWfcpZo/g$WYw/26lufJfAU6p/jwIrtsaDoGsMvDXos8rVHbSxNxo', FALSE, 1796572895127551);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$5pJC0b/cUeP5x62dIjH8RQ$8kPA/fOYMz3Kw3/xCVkztHawZMXv9U2JzIRGD3azBwE', FALSE, 1796572894688165);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

-- sitcen database as the code of commit 70eee8c446358b4dd18710cd099acfba2a870164 made it
-- (2026-11-29 Foundation skeleton: packaging, settings, taxonomy, store and journal, API routers, CLI; )
-- migrations recorded: 0001_initial
-- made by scripts/make_schema_fixture.py; loaded by tests/test_upgrades.py
-- users' password: correct-horse-battery-staple-42
-- dialect: sqlite
CREATE TABLE schema_migrations (
	name VARCHAR(128) NOT NULL, 
	applied_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
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
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE TABLE journal (
	seq INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (seq)
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
CREATE INDEX ix_events_follow_up ON events (follow_up_of);
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
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('19401162-31db-4c09-815b-e30b8d593d2f', 1, 1796572858549343, '{"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","country":"TJ","follow_up_of":null,"status":"reported","id":"19401162-31db-4c09-815b-e30b8d593d2f","origin":"tj-panj-post","version":1,"category":"cross_border_crime","reported_at":"2026-12-06T16:00:58.549343Z","recorded_at":"2026-12-06T16:00:58.549343Z","section_id":"AF-TJ-003","section_distance_km":1.974,"has_personal_data":true}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('19401162-31db-4c09-815b-e30b8d593d2f', 2, 1796572858582181, '{"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","country":"TJ","follow_up_of":null,"status":"reported","id":"19401162-31db-4c09-815b-e30b8d593d2f","origin":"tj-panj-post","version":2,"category":"cross_border_crime","reported_at":"2026-12-06T16:00:58.549343Z","recorded_at":"2026-12-06T16:00:58.582181Z","section_id":"AF-TJ-003","section_distance_km":1.974,"has_personal_data":true}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('05412f0e-20f1-4a15-b0e7-05e76d46683a', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796572858565904, 1796572858565904, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","country":"TJ","follow_up_of":null,"status":"reported","id":"05412f0e-20f1-4a15-b0e7-05e76d46683a","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","reported_at":"2026-12-06T16:00:58.565904Z","recorded_at":"2026-12-06T16:00:58.565904Z","section_id":"AF-TJ-003","section_distance_km":3.086,"has_personal_data":false}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('0cdd75e2-84e9-4dba-a84d-fe0505ed50c3', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796572858625034, 1796572858625034, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', '19401162-31db-4c09-815b-e30b8d593d2f', '{"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","country":"TJ","follow_up_of":"19401162-31db-4c09-815b-e30b8d593d2f","status":"reported","id":"0cdd75e2-84e9-4dba-a84d-fe0505ed50c3","origin":"tj-panj-post","version":1,"category":"cross_border_crime","reported_at":"2026-12-06T16:00:58.625034Z","recorded_at":"2026-12-06T16:00:58.625034Z","section_id":"AF-TJ-003","section_distance_km":1.974,"has_personal_data":false}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('19401162-31db-4c09-815b-e30b8d593d2f', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796572858549343, 1796572858610973, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","country":"TJ","follow_up_of":null,"status":"validated","id":"19401162-31db-4c09-815b-e30b8d593d2f","origin":"tj-panj-post","version":3,"category":"cross_border_crime","reported_at":"2026-12-06T16:00:58.549343Z","recorded_at":"2026-12-06T16:00:58.610973Z","section_id":"AF-TJ-003","section_distance_km":1.974,"has_personal_data":true}');
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', '19401162-31db-4c09-815b-e30b8d593d2f', 1, 'event', 1796572858550388);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', '643fce49-88fb-416a-9555-0d347401def6', 1, 'personal_data', 1796572858550388);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '05412f0e-20f1-4a15-b0e7-05e76d46683a', 1, 'event', 1796572858566703);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', '19401162-31db-4c09-815b-e30b8d593d2f', 2, 'event', 1796572858583299);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', '19401162-31db-4c09-815b-e30b8d593d2f', 3, 'event', 1796572858612295);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '0cdd75e2-84e9-4dba-a84d-fe0505ed50c3', 1, 'event', 1796572858627160);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('643fce49-88fb-416a-9555-0d347401def6', 'tj-panj-post', 1, '19401162-31db-4c09-815b-e30b8d593d2f', 1796572858549343, '{"event_id":"19401162-31db-4c09-815b-e30b8d593d2f","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796572854189188);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('7308e4d2d86d2f28d97c1fccc3aca19652083b021ddf090f53e35248f296d417', 'admin', 1796572858488688, 1796616058488688);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('e079fb20b0fd9260ff62e1358eb5457db5fc82b91da3c8d93380c17eb3d577dc', 'op.one', 1796572857345595, 1796616057345595);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('f9ef9b054f313f25b06a3661709d16d5626ee475aa9a0fa958b130085a4637dd', 'duty.one', 1796572857945648, 1796616057945648);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$5XqcRYBRVTD2yoH8O6tLQg$CtLaFP4B+rufEw3ZxqNFj8Mx8ajP6EFrRyhZiYr1mZE', FALSE, 1796572855270583);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$DXQDdvJ55q+zGGpjlyZ9TQ$sRlF1q9VRlcTuwadSzlhMTItS8EimhjSTJmbzrWpXrc', FALSE, 1796572856582721);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$i7oo8tukL3SFBKw8Fo0Ysw$+fAHsZCOR2p7gZWD39v2wQeZcYBva2Z7L7YsE43ey74', FALSE, 1796572855891533);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

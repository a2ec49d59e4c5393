-- sitcen database as the code of commit c2b71017a086b8fbca441f7377b78434608ac48f made it
-- (2026-11-29 Faster batch route (validates raw JSON, answers with orjson), batch UUIDs, partial follow)
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
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
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
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('5d1ef2e2-0c84-41fd-995b-213dcdf19135', 1, 1796572867317896, '{"id":"5d1ef2e2-0c84-41fd-995b-213dcdf19135","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:07.317896Z","recorded_at":"2026-12-06T16:01:07.317896Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('5d1ef2e2-0c84-41fd-995b-213dcdf19135', 2, 1796572867340292, '{"id":"5d1ef2e2-0c84-41fd-995b-213dcdf19135","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:07.317896Z","recorded_at":"2026-12-06T16:01:07.340292Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('5d1ef2e2-0c84-41fd-995b-213dcdf19135', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796572867317896, 1796572867351316, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"5d1ef2e2-0c84-41fd-995b-213dcdf19135","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:07.317896Z","recorded_at":"2026-12-06T16:01:07.351316Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('9842468c-6bd3-4fa2-a39c-f920a6664d77', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796572867359137, 1796572867359137, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', '5d1ef2e2-0c84-41fd-995b-213dcdf19135', '{"id":"9842468c-6bd3-4fa2-a39c-f920a6664d77","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:01:07.359137Z","recorded_at":"2026-12-06T16:01:07.359137Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"5d1ef2e2-0c84-41fd-995b-213dcdf19135","has_personal_data":false,"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body) VALUES ('c12b0923-bac6-46c4-aea1-9c711dc8400e', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796572867326378, 1796572867326378, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"c12b0923-bac6-46c4-aea1-9c711dc8400e","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:01:07.326378Z","recorded_at":"2026-12-06T16:01:07.326378Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}');
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', '5d1ef2e2-0c84-41fd-995b-213dcdf19135', 1, 'event', 1796572867319194);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', '45c92ef6-ac85-470b-93fd-09120bfac63e', 1, 'personal_data', 1796572867319194);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', 'c12b0923-bac6-46c4-aea1-9c711dc8400e', 1, 'event', 1796572867327341);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', '5d1ef2e2-0c84-41fd-995b-213dcdf19135', 2, 'event', 1796572867341708);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', '5d1ef2e2-0c84-41fd-995b-213dcdf19135', 3, 'event', 1796572867352733);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '9842468c-6bd3-4fa2-a39c-f920a6664d77', 1, 'event', 1796572867361403);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('45c92ef6-ac85-470b-93fd-09120bfac63e', 'tj-panj-post', 1, '5d1ef2e2-0c84-41fd-995b-213dcdf19135', 1796572867317896, '{"event_id":"5d1ef2e2-0c84-41fd-995b-213dcdf19135","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796572863305807);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('20d123bad9689bcccd76a81ebf29150c089583a49547332e4ac90a2dd818f703', 'op.one', 1796572865905719, 1796616065905719);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('526d4168499f245599e42e005ac7509e46131ebb21d382ee62f002896d0ab1d0', 'duty.one', 1796572866536782, 1796616066536782);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('6284b0116d70e84ded5aa12956822b951466a1d35d7b0de5fdacf081a1f523e6', 'admin', 1796572867233569, 1796616067233569);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$lEqHniqpaZ/JZBAekkBhCw$khGNPcpzr4HZQOz1lkZ7q3TWioxbhGFyazXMjIG13vo', FALSE, 1796572864060219);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$uHN35HwUA9bWYyLTepdFLw$7L8CKF4J+SsWeGBqMSeHGgdXh5OLtgsU3uF3HnUbmxU', FALSE, 1796572865299910);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$lvX88xSaUBbbJHePbsHNnQ$Jj1MgEC56sanodFD70g7d+iCG3w3McoGm6jb5Y3pQsg', FALSE, 1796572864634399);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

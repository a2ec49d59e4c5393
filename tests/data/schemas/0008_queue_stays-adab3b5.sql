-- sitcen database as the code of commit adab3b5e7dc68970dc172ccb98c3140be18f8d14 made it
-- (2026-12-06 Merge branch 'operations')
-- migrations recorded: 0001_initial, 0002_peers_agreements_leases, 0003_received_events, 0004_records_retractions, 0005_seen_batches, 0006_analysis_results, 0007_cursors, 0008_queue_stays
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
CREATE INDEX ix_events_time ON events (occurred_at, id);
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
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 1, 1796572945854976, '{"id":"eeb18190-d2c5-4c54-9a42-a1303f1ae35f","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:02:25.854976Z","recorded_at":"2026-12-06T16:02:25.854976Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 2, 1796572945898700, '{"id":"eeb18190-d2c5-4c54-9a42-a1303f1ae35f","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:02:25.854976Z","recorded_at":"2026-12-06T16:02:25.898700Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('2fffc6c9-cb80-4e08-9e3d-993805e39141', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796572945870086, 1796572945870086, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"2fffc6c9-cb80-4e08-9e3d-993805e39141","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:02:25.870086Z","recorded_at":"2026-12-06T16:02:25.870086Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('7c78e017-e31f-458e-98b1-a3a25022dda0', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796572945934833, 1796572945934833, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', 'eeb18190-d2c5-4c54-9a42-a1303f1ae35f', '{"id":"7c78e017-e31f-458e-98b1-a3a25022dda0","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:02:25.934833Z","recorded_at":"2026-12-06T16:02:25.934833Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"eeb18190-d2c5-4c54-9a42-a1303f1ae35f","has_personal_data":false,"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796572945854976, 1796572945921278, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"eeb18190-d2c5-4c54-9a42-a1303f1ae35f","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:02:25.854976Z","recorded_at":"2026-12-06T16:02:25.921278Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}', NULL, NULL);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', 'eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 1, 'event', 1796572945856344);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', '4a191bae-5c8a-44ef-b6a0-4bdef4e325f0', 1, 'personal_data', 1796572945856344);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '2fffc6c9-cb80-4e08-9e3d-993805e39141', 1, 'event', 1796572945871142);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', 'eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 2, 'event', 1796572945900569);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', 'eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 3, 'event', 1796572945923047);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '7c78e017-e31f-458e-98b1-a3a25022dda0', 1, 'event', 1796572945937069);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (7, 'tj-panj-post', '5486f9ee-778c-4743-85e7-e8edf64062e4', 1, 'asset_position', 1796572947541542);
INSERT INTO peers (node_id, name, url, public_key, relation, agreement_id, acked_seq, received_seq, created_at, updated_at) VALUES ('tj-dushanbe-centre', 'Dushanbe centre', 'https://centre.example:8443', 'ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg', 'parent', NULL, 0, 0, 1796572947549498, 1796572947549498);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('4a191bae-5c8a-44ef-b6a0-4bdef4e325f0', 'tj-panj-post', 1, 'eeb18190-d2c5-4c54-9a42-a1303f1ae35f', 1796572945854976, '{"event_id":"eeb18190-d2c5-4c54-9a42-a1303f1ae35f","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO records (id, origin, version, kind, subject, recorded_at, body, provenance, sharing) VALUES ('5486f9ee-778c-4743-85e7-e8edf64062e4', 'tj-panj-post', 1, 'asset_position', 'patrol-7', 1796572947541317, '{"asset_id":"patrol-7","kind":"patrol","name":"Patrol 7","status":"active","location":{"lon":68.62,"lat":37.21},"at":"2026-11-20T08:00:00Z","section_id":"AF-TJ-003","country":"TJ","handling":"AMBER"}', NULL, NULL);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796572942372528);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0002_peers_agreements_leases', 1796572942373798);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0003_received_events', 1796572942374676);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0004_records_retractions', 1796572942375737);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0005_seen_batches', 1796572942376055);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0006_analysis_results', 1796572942376338);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0007_cursors', 1796572942376592);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0008_queue_stays', 1796572942377453);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('742e56c12d16f3195190c4939a7a841a2a1d0dd8b74fd3b57e739d7fa093b3ae', 'duty.one', 1796572945423289, 1796616145423289);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('768eda97c163c711ee6638d4d9d7c5b9f2b11401b9ed2ce7da8de3b5a7ec44ff', 'admin', 1796572945806401, 1796616145806401);
INSERT INTO tokens (token_hash, username, created_at, expires_at) VALUES ('f97dcd1db553df7735c4422e629e933acb4d1ed313099661c7d359e3bb25cc46', 'op.one', 1796572944928684, 1796616144928684);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$wPdgwuIz0Mxb44fxQFeVLQ$6RXMnN0G62Zw3BHiPjqTxd6k57HSuYf+zqwnNq2iDz8', FALSE, 1796572943157079);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$kSnp5t4xgW+2orUfA6plNQ$LUatAcyBnrkVniYrcSzHVUEUEniFSG58bNwT2O1yKO4', FALSE, 1796572944334622);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$RbfE83FXT640O/SrhDFxXw$IlWBe7jq3WYQJ8txEJHnAjvx4piixQ6v91xfBFrV9kk', FALSE, 1796572943704876);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);

DROP TABLE user_sessions;
DROP TABLE user_invitations;
DROP TABLE users;

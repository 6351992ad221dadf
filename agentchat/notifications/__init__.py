"""Notifications: agents told of chats waiting too long (UnassignedChatsWaiting), customers of their queue place."""

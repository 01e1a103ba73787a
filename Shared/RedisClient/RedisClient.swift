import CHiredis
package enum RedisClientModule {}

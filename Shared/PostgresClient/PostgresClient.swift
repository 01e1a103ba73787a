import CLibPQ
package enum PostgresClientModule {}
